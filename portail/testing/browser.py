"""Browser test kit: Playwright driving Debian's Chromium against pytest-django's live server.

A pytest plugin, loaded by the root ``conftest.py``. A test asks for ``page`` (and ``live_url`` to
build absolute URLs from URL names)::

    class TestMemberSpace:
        def test_header_link(self, page, live_url):
            page.goto(live_url("public:home"))
            page.get_by_role("link", name="Mon compte").click()
            expect(page).to_have_url(live_url("public:member_space"))

Every test using ``page`` is marked ``browser`` automatically, is skipped when Chromium is missing
(it fails instead when ``PORTAIL_REQUIRE_CHROMIUM=1``, as in CI), and has axe-core check every page it
visits, whether reached by ``goto``, a click, a form or a redirect: any WCAG 2.1 A/AA or best-practice
violation fails the test with a report. There is nothing to call and nothing to forget.

How every page gets checked: an init script puts axe-core in every document of the browser context;
once a page's document has loaded, axe-core checks it in the page and hands the violations to Python
through a binding. Before a page navigates away (a route on the context sees the navigation request),
the kit waits for that check to finish; after the test body it waits for the last ones, and checks
the pages still open once more, as the test left them. A document left before it could be checked
(e.g. a navigation fulfilled by a test's own ``page.route``) is reported too, never skipped quietly.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Route, sync_playwright

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_MISSING = "Debian's chromium is not installed (apt-get install chromium)"
REQUIRE_CHROMIUM_VARIABLE = "PORTAIL_REQUIRE_CHROMIUM"

# The machine has no network: without the background-networking flags Chromium keeps trying to reach
# Google's services and floods the logs with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
# How long a document may take to load and be checked before the test moves on or ends.
AUDIT_TIMEOUT_SECONDS = 15

# Added to every document of the context before the page's own scripts. Playwright adds it through
# the DevTools protocol, like evaluate() and the binding: the site's Content-Security-Policy
# (script-src 'self' + nonce) does not apply to any of them, so the context does not need
# bypass_csp and the pages are tested under their real policy. In the top frame of a page served
# over HTTP, once the document has loaded (stylesheets included, so that contrast is measured on the
# real rendering), axe-core checks it and hands its violations to Python through the binding.
_AUDIT_BINDING = "__portailAccessibilityAudit"
_AUDIT_RUNNER = """
(() => {
  if (window.top !== window || !location.protocol.startsWith("http") || document.contentType !== "text/html") {
    return;
  }
  const report = window.%(binding)s;
  const documentId = `${Date.now()}-${Math.random()}`;
  report({ event: "open", document: documentId, url: location.href });
  window.addEventListener("load", () => {
    requestAnimationFrame(() => {
      axe.run(document, %(options)s).then(
        (results) => {
          report({ event: "result", document: documentId, url: location.href, violations: results.violations });
        },
        (error) => report({ event: "error", document: documentId, url: location.href, error: String(error) }),
      );
    });
  }, { once: true });
})();
"""


# --- Chromium detection ----------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Debian's Chromium, never a browser downloaded by `playwright install`."""
    if os.access(CHROMIUM_PATH, os.X_OK):
        return CHROMIUM_PATH
    return shutil.which("chromium")


def require_chromium() -> str:
    """The path to Chromium; skips the test when it is missing, or fails it when CI requires it."""
    path = find_chromium()
    if path is None:
        if os.environ.get(REQUIRE_CHROMIUM_VARIABLE) == "1":
            pytest.fail(CHROMIUM_MISSING, pytrace=False)
        pytest.skip(CHROMIUM_MISSING)
    return path


# --- Accessibility audit ---------------------------------------------------------------------------


@dataclass
class AccessibilityAudit:
    """Has axe-core check every document shown in one browser context, and keeps what it finds."""

    axe: Axe = field(default_factory=Axe)
    findings: dict[tuple, str] = field(default_factory=dict)
    audited_urls: list[str] = field(default_factory=list)
    # Documents opened but not checked yet: document id -> (page, URL).
    pending: dict[str, tuple[Page, str]] = field(default_factory=dict)
    # Pages the test left before their check finished (a fast click on a busy machine): checked again
    # at the end of the test, by loading the same address in a new tab of the same browser context.
    left_unchecked: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.expose_binding(_AUDIT_BINDING, self._on_report)
        context.add_init_script(
            self.axe.axe_script
            + "\n"
            + _AUDIT_RUNNER % {"binding": _AUDIT_BINDING, "options": json.dumps(AXE_OPTIONS)}
        )
        context.route("**/*", self._before_request)

    def finish(self, context: BrowserContext) -> None:
        """After the test: waits for the last documents' checks, checks again the pages left too early,
        then checks the last documents again as they are now."""
        for page in context.pages:
            self._wait_for_pending(page)
        self._check_left_pages(context)
        for page in context.pages:
            if page.is_closed() or not page.url.startswith(("http://", "https://")):
                continue
            try:
                results = self.axe.run(page, options=AXE_OPTIONS)
            except Exception as error:  # reported with the findings, never swallowed
                self._add(page.url, None, f"{page.url}\n  axe-core could not run: {error}")
                continue
            self._add_violations(page.url, results.response["violations"])
        for _page, url in self.pending.values():
            self._add(url, None, f"{url}\n  axe-core could not check this page: it did not finish loading in time")

    def report(self) -> str:
        return (
            f"axe-core found {len(self.findings)} accessibility problem(s) ({', '.join(AXE_TAGS)}):\n\n"
            + "\n\n".join(self.findings.values())
        )

    def _on_report(self, source: dict, message: dict) -> None:
        page, document, url = source["page"], message["document"], message["url"]
        if message["event"] == "open":
            # A page shows one document at a time: one still pending now was left before it was checked.
            for other, (other_page, other_url) in list(self.pending.items()):
                if other_page == page:
                    del self.pending[other]
                    self.left_unchecked.append(other_url)
            self.pending[document] = (page, url)
            return
        self.pending.pop(document, None)
        if message["event"] == "error":
            self._add(url, None, f"{url}\n  axe-core could not run: {message['error']}")
        else:
            self.audited_urls.append(url)
            self._add_violations(url, message["violations"])

    def _check_left_pages(self, context: BrowserContext) -> None:
        for url in dict.fromkeys(self.left_unchecked):
            if url in self.audited_urls:
                continue
            tab = context.new_page()
            try:
                response = tab.goto(url)
                if response is not None and response.status >= 400:
                    # A POST-only address answers GET with an empty error: that page was the result of a
                    # form, which the test checks through the page it shows next.
                    continue
                self._wait_for_pending(tab)
                if url not in self.audited_urls and tab.url not in self.audited_urls:
                    self._add(url, None, f"{url}\n  axe-core could not check this page: it was left first")
            finally:
                tab.close()

    def _before_request(self, route: Route, request: Request) -> None:
        # Before a page navigates away, let axe-core finish checking the document it shows. The page
        # cannot be evaluated while a navigation waits here (Playwright waits for the next document),
        # hence the check inside the page itself. A route handler must always let the request go.
        try:
            if request.is_navigation_request() and request.frame.parent_frame is None:
                self._wait_for_pending(request.frame.page)
        finally:
            route.fallback()

    def _wait_for_pending(self, page: Page) -> None:
        deadline = time.monotonic() + AUDIT_TIMEOUT_SECONDS
        while (
            not page.is_closed()
            and any(pending_page == page for pending_page, _ in self.pending.values())
            and time.monotonic() < deadline
        ):
            page.wait_for_timeout(20)

    def _add_violations(self, url: str, violations: list[dict]) -> None:
        for violation in violations:
            targets = tuple(" ".join(map(str, node.get("target", []))) for node in violation["nodes"])
            self._add(url, (violation["id"], targets), format_violation(url, violation))

    def _add(self, url: str, key: tuple | None, text: str) -> None:
        # The same violation seen at load and at the end of the test is reported once.
        self.findings.setdefault((url, key or text), text)


def format_violation(url: str, violation: dict) -> str:
    lines = [
        url,
        f"  {violation['id']} ({violation.get('impact') or 'no impact given'}): {violation['help']}",
        f"  {violation.get('helpUrl', '')}",
    ]
    for node in violation["nodes"]:
        lines.append(f"    - {' '.join(str(part) for part in node.get('target', []))}")
        for summary_line in (node.get("failureSummary") or "").splitlines():
            lines.append(f"        {summary_line.strip()}")
    return "\n".join(lines)


_AUDIT_KEY = pytest.StashKey[tuple[AccessibilityAudit, BrowserContext]]()


# --- pytest hooks ----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be there before `-m browser` deselects anything.
    for item in items:
        uses_browser = {"page", "chromium"} & set(getattr(item, "fixturenames", ()))
        if uses_browser and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: no live server nor database is set up for a test that cannot run.
    if item.get_closest_marker("browser") is not None:
        require_chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield  # re-raises the test's own failure, which comes first
    audit_and_context = item.stash.get(_AUDIT_KEY, None)
    if audit_and_context is not None:
        audit, context = audit_and_context
        audit.finish(context)
        if audit.findings:
            raise AssertionError(audit.report())
    return result


# --- Fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started once the test database exists.

    Session fixtures are set up before function ones, so pytest-django's ``live_server`` would start
    before ``transactional_db`` creates the test database: with SQLite in memory, it would then not
    share the test's connection with the server thread (its check for an in-memory database sees
    the real database's name), and every request would open a connection of its own, never closed.
    """
    return live_server


@pytest.fixture(scope="session")
def playwright_session(django_db_setup) -> Iterator[Playwright]:
    require_chromium()
    # Playwright's sync API marks an asyncio event loop as running in this thread for as long as it
    # is started (between two calls too), so Django's async-safety check would refuse every ORM call
    # made by the tests (browser tests and any test that runs after them in the session) with
    # SynchronousOnlyOperation. It is safe to switch the check off: that loop only carries
    # Playwright's messages to the browser, no Django code runs in it as a coroutine, and the live
    # server answers in its own thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # With a running loop, asgiref keeps Django's database connections in a per-context store
    # instead of the thread's: hand the thread's connections (to the test database, which exists:
    # see django_db_setup above) over to it, so that tests and pytest-django keep using the very
    # same connections instead of opening new ones that nobody closes.
    thread_connections = {alias: connections[alias] for alias in connections}
    manager = sync_playwright().start()
    for alias, connection in thread_connections.items():
        connections[alias] = connection
    try:
        yield manager
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets its own context."""
    browser = playwright_session.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def live_url(live_server) -> Callable[..., str]:
    """Absolute URL on the live server from a URL name: ``live_url("public:home")``."""

    def build(name: str, *args, query: str = "", **kwargs) -> str:
        url = live_server.url + reverse(name, args=args or None, kwargs=kwargs or None)
        return f"{url}?{query}" if query else url

    return build


@pytest.fixture
def page(request: pytest.FixtureRequest, live_server, transactional_db, chromium: Browser) -> Iterator[Page]:
    """A fresh page in a new browser context (French, 1280x900), audited by axe-core on every document.

    Depends on live_server, so the test runs with a transactional database that the server's thread
    can see.
    """
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    audit = AccessibilityAudit()
    audit.watch(context)
    request.node.stash[_AUDIT_KEY] = (audit, context)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
