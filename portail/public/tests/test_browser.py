"""Public pages in a real browser. axe-core checks every page these tests visit (portail.testing.browser).

The pages' wording changes often: these tests rely on URL names, roles, the skip link, the header's
member-space link and the lang attribute, not on the text of the pages.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

# Where each public page is linked from, on every page.
HEADER_PAGES = ["public:member_space"]
FOOTER_PAGES = [
    "public:members",
    "public:professionals",
    "public:employers",
    "public:how_it_works",
    "public:eligibility",
    "public:legal_notice",
    "public:accessibility",
    "public:privacy",
]

# "<page title> – Portail assuré": the page's own part must not be empty.
PAGE_TITLE = re.compile(r"^\s*[^\s–].*–")
NOT_EMPTY = re.compile(r"\S")


def expect_a_page_with_one_h1_and_a_title(page):
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).not_to_be_empty()
    expect(page).to_have_title(PAGE_TITLE)


def landmark_link(page, landmark, name):
    """The link to a URL name in the header ("banner") or the footer ("contentinfo")."""
    return page.get_by_role(landmark).get_by_role("link").and_(page.locator(f'[href="{reverse(name)}"]'))


@pytest.mark.browser
class TestPublicNavigation:
    def test_walk_every_public_page_by_clicking_header_and_footer_links(self, page, live_url):
        page.goto(live_url("public:home"))
        expect_a_page_with_one_h1_and_a_title(page)
        expect(page.locator("html")).to_have_attribute("lang", "fr")

        steps = [("banner", name) for name in HEADER_PAGES] + [("contentinfo", name) for name in FOOTER_PAGES]
        steps.append(("banner", "public:home"))  # the portal's name, back home
        for landmark, name in steps:
            link = landmark_link(page, landmark, name)
            expect(link).to_have_accessible_name(NOT_EMPTY)

            link.click()

            expect(page).to_have_url(live_url(name))
            expect_a_page_with_one_h1_and_a_title(page)


@pytest.mark.browser
class TestLanguageSwitch:
    def test_switch_to_english_and_back_on_the_same_page(self, page, live_url):
        url = live_url("public:how_it_works")
        page.goto(url)
        html = page.locator("html")
        expect(html).to_have_attribute("lang", "fr")

        page.get_by_role("banner").get_by_role("button", name="English version").click()

        expect(page).to_have_url(url)
        expect(html).to_have_attribute("lang", "en")
        expect_a_page_with_one_h1_and_a_title(page)

        page.get_by_role("banner").get_by_role("button", name="Version française").click()

        expect(page).to_have_url(url)
        expect(html).to_have_attribute("lang", "fr")
        expect(page.get_by_role("banner").get_by_role("button", name="English version")).to_be_visible()


FOCUS_STYLE = """(element) => {
  const style = getComputedStyle(element);
  return {
    backgroundColor: style.backgroundColor,
    boxShadow: style.boxShadow,
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
  };
}"""

MAX_TABS = 60


@pytest.mark.browser
class TestKeyboardOnly:
    def test_skip_link_then_tab_to_the_member_space(self, page, live_url):
        page.goto(live_url("public:home"))
        member_space_path = reverse("public:member_space")
        member_space_links = page.locator(f'a[href$="{member_space_path}"]')
        expect(member_space_links.first).to_be_attached()
        # Unfocused look of every member-space link, to compare with its focused look.
        unfocused_styles = member_space_links.evaluate_all(f"(links) => links.map({FOCUS_STYLE})")

        page.keyboard.press("Tab")

        skip_link = page.locator(":focus")
        expect(skip_link).to_have_attribute("href", "#contenu")
        expect(skip_link).to_have_accessible_name(NOT_EMPTY)
        box = skip_link.bounding_box()
        viewport = page.viewport_size
        assert box is not None and box["width"] > 0 and box["height"] > 0
        assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], box
        assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box

        page.keyboard.press("Enter")

        expect(page.locator("main#contenu")).to_be_focused()

        focused = page.locator(":focus")
        for _ in range(MAX_TABS):
            page.keyboard.press("Tab")
            if (focused.get_attribute("href") or "").endswith(member_space_path):
                break
        else:
            pytest.fail(f"{MAX_TABS} presses on Tab never reached a link to {member_space_path}")

        index = member_space_links.evaluate_all("(links) => links.indexOf(document.activeElement)")
        focused_style = focused.evaluate(FOCUS_STYLE)
        assert focused_style != unfocused_styles[index], "the focused link looks the same as when not focused"

        page.keyboard.press("Enter")

        expect(page).to_have_url(live_url("public:member_space"))
