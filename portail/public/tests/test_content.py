"""What the public pages say, in French and in English, and the state of the English catalogue."""

import ast
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

CATALOGUE = Path(settings.BASE_DIR) / "portail" / "locale" / "en" / "LC_MESSAGES" / "django.po"

# (URL name, a French sentence on the page, its English translation from the catalogue)
PAGES = [
    ("public:home", "Votre compte d'assuré en ligne", "Your online member account"),
    (
        "public:members",
        "Plus de relevés papier tant que votre compte est actif",
        "No more paper statements while your account is active",
    ),
    ("public:how_it_works", "Utiliser le code dans les 15 jours", "Use the code within 15 days"),
    (
        "public:eligibility",
        "Comment savoir qui gère votre assurance maladie",
        "How to find out who manages your health insurance",
    ),
    (
        "public:professionals",
        "Ne demandez jamais son code personnel à un patient",
        "Never ask a patient for their personal code",
    ),
    ("public:employers", "Ce que vous pouvez dire à vos salariés", "What you can tell your employees"),
    ("public:legal_notice", "Directeur de la publication", "Publication director"),
    ("public:accessibility", "État de conformité", "Compliance status"),
    ("public:privacy", "Réclamation auprès de la CNIL", "Complaint to the CNIL"),
]
PAGE_NAMES = [name for name, _, _ in PAGES]


class _PageParser(HTMLParser):
    """Collects the links and headings inside <main>, and the <html lang>."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.in_main = False
        self.main_links = []  # (href, class, text)
        self.headings = []  # levels in document order, inside <main>
        self._link = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "main":
            self.in_main = True
        elif self.in_main and tag == "a":
            self._link = [attrs.get("href"), attrs.get("class") or "", ""]
        elif self.in_main and re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        elif tag == "a" and self._link is not None:
            self._link[2] = " ".join(self._link[2].split())
            self.main_links.append(tuple(self._link))
            self._link = None

    def handle_data(self, data):
        if self._link is not None:
            self._link[2] += data


def parse(response):
    parser = _PageParser()
    parser.feed(response.content.decode())
    return parser


def text_of(response):
    return html.unescape(response.content.decode())


def switch_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND


@pytest.mark.django_db
class TestPagesInBothLanguages:
    @pytest.mark.parametrize(("name", "french", "english"), PAGES)
    def test_french_by_default(self, client, name, french, english):
        response = client.get(reverse(name))
        assert response.status_code == HTTPStatus.OK
        assert parse(response).lang == "fr"
        assert french in text_of(response)
        assert english not in text_of(response)

    @pytest.mark.parametrize(("name", "french", "english"), PAGES)
    def test_english_after_switching(self, client, name, french, english):
        switch_to_english(client)
        response = client.get(reverse(name))
        assert response.status_code == HTTPStatus.OK
        assert parse(response).lang == "en"
        assert english in text_of(response)
        assert french not in text_of(response)


@pytest.mark.django_db
class TestPageStructure:
    @pytest.mark.parametrize("name", PAGE_NAMES)
    def test_one_h1_first_and_headings_in_order(self, client, name):
        headings = parse(client.get(reverse(name))).headings
        assert headings.count(1) == 1
        assert headings[0] == 1
        for previous, current in zip(headings, headings[1:], strict=False):
            assert current <= previous + 1, f"heading level jumps from h{previous} to h{current}"

    @pytest.mark.parametrize("name", PAGE_NAMES)
    def test_has_a_real_title(self, client, name):
        title = re.search(r"<title>(.*?)</title>", text_of(client.get(reverse(name))), re.S).group(1)
        page_part = title.split("–")[0].strip()
        assert page_part
        assert "_" not in page_part

    @pytest.mark.parametrize("name", PAGE_NAMES)
    def test_no_inline_style_or_script(self, client, name):
        content = client.get(reverse(name)).content.decode()
        assert "style=" not in content
        assert "<script" not in content

    @pytest.mark.parametrize("name", PAGE_NAMES)
    def test_links_say_where_they_go(self, client, name):
        for href, _, text in parse(client.get(reverse(name))).main_links:
            assert href
            assert len(text) > 3, f"link to {href} has no explicit text"
            assert "cliquez ici" not in text.lower()

    @pytest.mark.parametrize("name", PAGE_NAMES)
    def test_never_says_open_my_account_for_ordering_a_code(self, client, name):
        assert not re.search(r"\bouvr\w*\s+(mon|votre|un)\s+compte", text_of(client.get(reverse(name))).lower())


@pytest.mark.django_db
class TestHomePage:
    def test_exactly_one_way_into_the_member_space(self, client):
        links = parse(client.get(reverse("public:home"))).main_links
        to_member_space = [link for link in links if link[0] == reverse("public:member_space")]
        assert len(to_member_space) == 1
        _, css_class, text = to_member_space[0]
        assert "button" in css_class.split()
        assert "button--secondary" not in css_class.split()
        assert text == "Accéder à mon compte"

    def test_eligibility_notice_is_linked(self, client):
        response = client.get(reverse("public:home"))
        hrefs = [href for href, _, _ in parse(response).main_links]
        assert reverse("public:eligibility") in hrefs
        assert "fonctionnaires" in text_of(response)

    def test_links_to_how_it_works_professionals_and_employers(self, client):
        hrefs = [href for href, _, _ in parse(client.get(reverse("public:home"))).main_links]
        for name in ("public:how_it_works", "public:professionals", "public:employers"):
            assert reverse(name) in hrefs

    def test_says_a_code_comes_by_post_first(self, client):
        content = text_of(client.get(reverse("public:home")))
        assert "code provisoire envoyé par courrier" in content
        assert "7 à 12 jours" in content


@pytest.mark.django_db
class TestHowItWorks:
    def test_states_the_real_delays(self, client):
        content = text_of(client.get(reverse("public:how_it_works")))
        assert "7 à 12 jours" in content
        assert "15 jours" in content
        assert "48 heures" in content
        assert "8 à 13 chiffres" in content
        assert "3 au plus par période de 30 jours" in content

    def test_has_a_five_step_timeline(self, client):
        content = client.get(reverse("public:how_it_works")).content.decode()
        timeline = re.search(r'<ol class="timeline">(.*?)</ol>', content, re.S).group(1)
        assert timeline.count("<h3>") == 5

    def test_english_states_the_same_delays(self, client):
        switch_to_english(client)
        content = text_of(client.get(reverse("public:how_it_works")))
        assert "7 to 12 days" in content
        assert "15 days" in content


@pytest.mark.django_db
class TestMembersPage:
    def test_states_the_paper_statement_rule(self, client):
        content = text_of(client.get(reverse("public:members")))
        assert "vous ne recevez plus vos relevés de prestations par courrier" in content
        assert "complémentaire santé" in content
        assert "duplicata papier" in content
        assert "de nouveau envoyés par courrier" in content


@pytest.mark.django_db
class TestAccessibilityStatement:
    def test_states_non_compliance_without_audit(self, client):
        content = text_of(client.get(reverse("public:accessibility")))
        assert "non conforme" in content
        assert "RGAA" in content
        assert "Défenseur des droits" in content


def _catalogue_entries(text):
    """A tiny .po parser: yields (flags, msgid, msgstrs) for each entry."""
    entries = []
    flags, fields, current = [], {}, None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if fields:
                msgstrs = [value for key, value in fields.items() if key.startswith("msgstr")]
                entries.append((flags, fields.get("msgid", ""), msgstrs))
            flags, fields, current = [], {}, None
        elif line.startswith("#,"):
            flags = [flag.strip() for flag in line[2:].split(",")]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current] += ast.literal_eval(line)
        else:
            current, _, value = line.partition(" ")
            fields[current] = ast.literal_eval(value)
    return entries


class TestEnglishCatalogue:
    def test_every_message_is_translated_and_none_is_fuzzy(self):
        entries = _catalogue_entries(CATALOGUE.read_text(encoding="utf-8"))
        assert len(entries) > 1
        fuzzy = [msgid for flags, msgid, _ in entries if "fuzzy" in flags]
        empty = [msgid for _, msgid, msgstrs in entries[1:] if not all(msgstrs)]
        assert fuzzy == []
        assert empty == []

    def test_placeholders_are_kept(self):
        placeholder = re.compile(r"%\(\w+\)[sd]")
        for _, msgid, msgstrs in _catalogue_entries(CATALOGUE.read_text(encoding="utf-8"))[1:]:
            for msgstr in msgstrs:
                assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), msgid

    def test_msgfmt_agrees(self):
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            pytest.skip("msgfmt (GNU gettext) is not installed: the Python check above still runs")
        result = subprocess.run(  # noqa: S603 - fixed arguments, no user input
            [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "fuzzy" not in result.stderr
        assert "untranslated" not in result.stderr
