"""The browser kit itself: Chromium detection, and axe-core checking every page, clicked to or not."""

import pytest

from portail.testing import browser
from portail.testing.browser import CHROMIUM_MISSING, AccessibilityAudit

FAKE_SITE = "http://kit.test"

GOOD_PAGE = """<!DOCTYPE html><html lang="fr"><head><title>{title}</title></head>
<body><main><h1>{title}</h1><p><a href="{next}">Page suivante</a></p></main></body></html>"""

# No lang, an image without alternative text, a link without a name: three WCAG A violations.
BAD_PAGE = """<!DOCTYPE html><html><head><title>Mauvaise page</title></head>
<body><main><h1>Mauvaise page</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<a href="/fin/"></a><p><a href="/fin/">Suite</a></p></main></body></html>"""


class TestChromiumDetection:
    def test_missing_chromium_skips(self, monkeypatch):
        monkeypatch.setattr(browser, "find_chromium", lambda: None)
        monkeypatch.delenv("PORTAIL_REQUIRE_CHROMIUM", raising=False)
        with pytest.raises(pytest.skip.Exception, match=r"Debian's chromium is not installed \(apt-get install"):
            browser.require_chromium()

    def test_missing_chromium_fails_when_required(self, monkeypatch):
        monkeypatch.setattr(browser, "find_chromium", lambda: None)
        monkeypatch.setenv("PORTAIL_REQUIRE_CHROMIUM", "1")
        with pytest.raises(pytest.fail.Exception) as failure:
            browser.require_chromium()
        assert str(failure.value) == CHROMIUM_MISSING

    def test_chromium_found(self, monkeypatch):
        monkeypatch.setattr(browser, "find_chromium", lambda: "/usr/bin/chromium")
        monkeypatch.setenv("PORTAIL_REQUIRE_CHROMIUM", "1")
        assert browser.require_chromium() == "/usr/bin/chromium"

    def test_a_test_without_the_browser_is_not_marked(self, request):
        assert request.node.get_closest_marker("browser") is None


class TestAccessibilityAudit:
    def test_every_page_is_checked_also_when_reached_by_a_click(self, request, chromium):
        assert request.node.get_closest_marker("browser") is not None, "tests using chromium are marked browser"
        pages = {
            "/": GOOD_PAGE.format(title="Accueil", next="/mauvaise/"),
            "/mauvaise/": BAD_PAGE,
            "/fin/": GOOD_PAGE.format(title="Fin", next="/"),
        }
        context = chromium.new_context()
        try:
            # Registered before the audit's own route, so that the audit's runs first.
            context.route(
                f"{FAKE_SITE}/**",
                lambda route, request: route.fulfill(
                    content_type="text/html", body=pages[request.url.removeprefix(FAKE_SITE)]
                ),
            )
            audit = AccessibilityAudit()
            audit.watch(context)
            page = context.new_page()

            page.goto(f"{FAKE_SITE}/")
            page.get_by_role("link", name="Page suivante").click()
            # Leaves the bad page at once, by a click, before anything else could check it.
            page.get_by_role("link", name="Suite").click()
            page.wait_for_url(f"{FAKE_SITE}/fin/")
            audit.finish(context)
        finally:
            context.close()

        assert audit.audited_urls[:3] == [f"{FAKE_SITE}/", f"{FAKE_SITE}/mauvaise/", f"{FAKE_SITE}/fin/"]
        report = audit.report()
        for rule in ("html-has-lang", "image-alt", "link-name"):
            assert f"{rule} (" in report, report
        assert f"{FAKE_SITE}/mauvaise/\n  image-alt (critical)" in report
        assert "    - img" in report
        assert all(url == f"{FAKE_SITE}/mauvaise/" for url, _ in audit.findings), report
