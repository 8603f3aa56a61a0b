import datetime
import io
import stat

import pytest
from django.db import transaction
from pypdf import PdfReader

from portail.post.enums import LetterKind, LetterStatus
from portail.post.factories import LetterFactory
from portail.post.letters import renderer_for
from portail.post.letters.provisional_code import spaced_code
from portail.post.models import Letter
from portail.post.services import letter_enqueue, letter_render
from portail.registry.enums import Sex
from portail.registry.factories import MemberFactory

CONTEXT = {"issued_at": datetime.date(2025, 3, 5), "expires_at": datetime.date(2025, 3, 20)}
SECRET = {"code": "48210937"}


def pdf_text(path) -> str:
    """The text of every page, each run of white space (line ends too) made one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


@pytest.fixture
def member():
    return MemberFactory(
        sex=Sex.FEMALE,
        first_names="Amélie Jeanne",
        last_name="Dupont-Léger",
        address_line1="12 rue de l'Église",
        address_line2="Bâtiment B",
        postal_code="69007",
        city="Lyon",
    )


@pytest.mark.django_db
class TestLetterEnqueue:
    def test_render_runs_once_the_transaction_commits(self, member, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            letter = letter_enqueue(
                member=member, kind=LetterKind.PROVISIONAL_CODE, context=CONTEXT, secret_context=SECRET
            )
            assert Letter.objects.get().status == LetterStatus.QUEUED
        assert len(callbacks) == 1
        letter.refresh_from_db()
        assert letter.status == LetterStatus.RENDERED
        assert letter.rendered_at is not None
        assert letter.page_count == 1

    def test_rolled_back_transaction_enqueues_nothing(self, member, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                letter_enqueue(member=member, kind=LetterKind.PROVISIONAL_CODE, context=CONTEXT, secret_context=SECRET)
                raise RuntimeError("the request failed")
        assert callbacks == []
        assert not Letter.objects.exists()

    def test_address_is_a_snapshot_of_the_register(self, member):
        letter = letter_enqueue(
            member=member, kind=LetterKind.PROVISIONAL_CODE, context=CONTEXT, secret_context=SECRET
        )
        member.address_line1 = "1 avenue Nouvelle"
        member.save()
        letter.refresh_from_db()
        assert letter.address_lines == ["Madame Amélie DUPONT-LÉGER", "12 rue de l'Église", "Bâtiment B", "69007 LYON"]

    @pytest.mark.parametrize(
        ("context", "secret_context"),
        [
            pytest.param({"issued_at": "2025-03-05"}, SECRET, id="no expiry"),
            pytest.param(CONTEXT, {}, id="no code"),
            pytest.param(CONTEXT, {"code": "1234567"}, id="7 digits"),
            pytest.param(CONTEXT, {"code": "1234567a"}, id="a letter"),
            pytest.param({**CONTEXT, **SECRET}, SECRET, id="code outside the secret"),
            pytest.param({"issued_at": "2025-03-20", "expires_at": "2025-03-05"}, SECRET, id="expires before issue"),
        ],
    )
    def test_refuses_a_letter_that_cannot_be_drawn(self, member, context, secret_context):
        with pytest.raises(ValueError):
            letter_enqueue(
                member=member, kind=LetterKind.PROVISIONAL_CODE, context=context, secret_context=secret_context
            )
        assert not Letter.objects.exists()

    def test_refuses_an_unknown_kind(self, member):
        with pytest.raises(ValueError):
            letter_enqueue(member=member, kind="statement", context={})


@pytest.mark.django_db
class TestLetterRender:
    def test_pdf_holds_code_dates_and_address_from_the_register(self, member, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            letter = letter_enqueue(
                member=member, kind=LetterKind.PROVISIONAL_CODE, context=CONTEXT, secret_context=SECRET
            )
        letter.refresh_from_db()
        text = pdf_text(letter.pdf_file)
        assert "4821 0937" in text
        assert "Ce code est valable 15 jours : du 05/03/2025 au 20/03/2025." in text
        for line in ["Madame Amélie DUPONT-LÉGER", "12 rue de l'Église", "Bâtiment B", "69007 LYON"]:
            assert line in text
        assert "Objet : votre code confidentiel provisoire" in text
        assert "de 8 à 13 chiffres" in text
        assert "Ne donnez jamais ce code à personne." in text
        assert member.nir not in text.replace(" ", "")

    def test_secret_is_wiped_and_file_is_private(self, member):
        letter = LetterFactory(member=member)
        letter_render(letter_id=letter.pk)
        letter.refresh_from_db()
        assert letter.secret_context == {}
        assert stat.S_IMODE(letter.pdf_file.stat().st_mode) == 0o600
        assert str(letter.pdf_file).startswith(str(letter.pdf_file.parents[2]))

    def test_render_is_idempotent(self, member):
        letter = LetterFactory(member=member)
        letter_render(letter_id=letter.pk)
        letter.refresh_from_db()
        first_render = (letter.rendered_at, letter.pdf_file.read_bytes())

        again = letter_render(letter_id=letter.pk)

        again.refresh_from_db()
        assert (again.rendered_at, again.pdf_file.read_bytes()) == first_render
        assert again.secret_context == {}

    def test_unknown_letter_is_skipped(self):
        assert letter_render(letter_id=999_999) is None

    def test_datetimes_in_the_context_are_local_dates(self, member):
        letter = LetterFactory(
            member=member,
            context={"issued_at": "2025-03-04T23:30:00+00:00", "expires_at": "2025-03-19T23:30:00+00:00"},
        )
        letter_render(letter_id=letter.pk)
        letter.refresh_from_db()
        assert "du 05/03/2025 au 20/03/2025" in pdf_text(letter.pdf_file)

    def test_text_is_extractable_with_french_accents(self, member):
        letter = LetterFactory(member=member)
        pdf, pages = renderer_for(letter.kind).render(letter)
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert pages == 1
        assert "Acceptez les conditions d'utilisation" in text
        assert "numéro de sécurité sociale" in text


class TestSpacedCode:
    def test_two_groups_of_four(self):
        assert spaced_code("48210937") == "4821 0937"
