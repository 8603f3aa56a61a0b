// Character counter for textareas with a maxlength and a data-counter attribute (see
// templates/messaging/widgets/counted_textarea.html). The visible count follows each key; the
// aria-live region is updated a moment after typing stops, so screen readers are not flooded.
// Without JavaScript the counter stays hidden: the hint gives the limit and the server enforces it.
(function () {
  "use strict";
  var ANNOUNCE_DELAY_MS = 800;

  function setUp(textarea) {
    var counter = document.getElementById(textarea.getAttribute("data-counter"));
    var limit = parseInt(textarea.getAttribute("maxlength"), 10);
    if (!counter || !limit) {
      return;
    }
    var visible = counter.querySelector(".character-count__visible");
    var live = counter.querySelector("[aria-live]");
    var numbers = new Intl.NumberFormat(document.documentElement.lang || "fr");
    var timer = null;

    function text() {
      var left = Math.max(0, limit - textarea.value.length);
      if (left === 0) {
        return counter.getAttribute("data-text-none");
      }
      if (left === 1) {
        return counter.getAttribute("data-text-one");
      }
      return counter.getAttribute("data-text-many").replace("__count__", numbers.format(left));
    }

    function update() {
      var message = text();
      visible.textContent = message;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        live.textContent = message;
      }, ANNOUNCE_DELAY_MS);
    }

    counter.hidden = false;
    visible.textContent = text();
    textarea.addEventListener("input", update);
  }

  document.querySelectorAll("textarea[maxlength][data-counter]").forEach(setUp);
})();
