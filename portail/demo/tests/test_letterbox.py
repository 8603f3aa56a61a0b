import datetime
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse

from portail.post.enums import EmailKind
from portail.post.factories import EmailFactory, LetterFactory
from portail.post.services import email_enqueue, letter_render
from portail.registry.factories import MemberFactory

LETTERBOX_URL = reverse("demo:letterbox")


@pytest.fixture(autouse=True)
def demo_settings(settings, tmp_path):
    settings.PORTAIL_DEMO = True
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MAILERS = {"default": {"BACKEND": "portail.post.mail.DemoLetterboxBackend"}}
    settings.PORTAIL_LETTERS_DIR = tmp_path / "letters"
    settings.PORTAIL_PRINT_BATCHES_DIR = tmp_path / "print-batches"
    return settings


def rendered_letter(**kwargs):
    letter = LetterFactory(**kwargs)
    letter_render(letter_id=letter.pk)
    letter.refresh_from_db()
    return letter


@pytest.mark.django_db
class TestLetterbox:
    def test_lists_letters_and_emails_newest_first(self, client, django_capture_on_commit_callbacks):
        member = MemberFactory(first_names="Camille", last_name="Lefèvre")
        with time_machine.travel(datetime.datetime(2025, 3, 5, 9, tzinfo=datetime.UTC), tick=False):
            letter = rendered_letter(member=member, recipient_name="Madame Camille LEFÈVRE")
        with (
            time_machine.travel(datetime.datetime(2025, 3, 6, 9, tzinfo=datetime.UTC), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            email_enqueue(
                to="camille.lefevre@example.org",
                subject="Confirmez votre adresse e-mail",
                body="Ouvrez ce lien : https://portail.example/confirmer/abc/",
                kind=EmailKind.EMAIL_CONFIRMATION,
                member=member,
            )

        response = client.get(LETTERBOX_URL)

        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert html.count("<h1") == 1
        assert "Boîte aux lettres de démonstration" in html
        assert "Madame Camille LEFÈVRE" in html
        assert reverse("demo:letter_pdf", args=[letter.pk]) in html
        assert "camille.lefevre@example.org" in html
        assert '<a href="https://portail.example/confirmer/abc/"' in html
        assert html.index("Confirmez votre adresse e-mail") < html.index("Madame Camille LEFÈVRE")
        assert "48210937" not in html and "4821 0937" not in html
        assert member.nir not in html
        assert "style=" not in html
        assert "<script" not in html

    def test_filter_by_recipient(self, client):
        rendered_letter(recipient_name="Madame Camille LEFÈVRE")
        rendered_letter(recipient_name="Monsieur Jean-Baptiste SANTONI")
        EmailFactory(to="santoni@example.org")

        response = client.get(LETTERBOX_URL, {"recipient": "santoni"})

        html = response.content.decode()
        assert "SANTONI" in html
        assert "santoni@example.org" in html
        assert "LEFÈVRE" not in html

    def test_email_text_is_escaped(self, client):
        EmailFactory(body="<script>alert(1)</script> https://portail.example/")
        html = client.get(LETTERBOX_URL).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;" in html

    def test_empty(self, client):
        response = client.get(LETTERBOX_URL)
        assert response.status_code == HTTPStatus.OK
        assert "La boîte aux lettres est vide" in response.content.decode()

    def test_same_number_of_queries_for_1_or_10_entries(self, client, django_assert_num_queries):
        EmailFactory(member=MemberFactory())
        rendered_letter()
        with django_assert_num_queries(4):  # the request savepoint and its release, letters, e-mails
            client.get(LETTERBOX_URL)
        EmailFactory.create_batch(4, member=MemberFactory())
        for _ in range(4):
            rendered_letter()
        with django_assert_num_queries(4):  # the request savepoint and its release, letters, e-mails
            client.get(LETTERBOX_URL)

    def test_not_found_outside_demo_mode(self, client, settings):
        settings.PORTAIL_DEMO = False
        assert client.get(LETTERBOX_URL).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
class TestLetterPdf:
    def test_served_inline(self, client):
        letter = rendered_letter()
        response = client.get(reverse("demo:letter_pdf", args=[letter.pk]))
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        assert b"".join(response.streaming_content) == letter.pdf_file.read_bytes()

    def test_not_found_outside_demo_mode(self, client, settings):
        letter = rendered_letter()
        settings.PORTAIL_DEMO = False
        assert client.get(reverse("demo:letter_pdf", args=[letter.pk])).status_code == HTTPStatus.NOT_FOUND

    def test_not_found_before_rendering(self, client):
        letter = LetterFactory()
        assert client.get(reverse("demo:letter_pdf", args=[letter.pk])).status_code == HTTPStatus.NOT_FOUND

    def test_not_found_for_unknown_letter(self, client):
        assert client.get(reverse("demo:letter_pdf", args=[999_999])).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
class TestLetterboxLimit:
    def test_says_when_older_entries_are_left_out(self, client, monkeypatch):
        monkeypatch.setattr("portail.demo.views.LETTERBOX_LIMIT", 2)
        EmailFactory.create_batch(3)
        html = client.get(LETTERBOX_URL).content.decode()
        assert html.count('class="card"') == 2
        assert "Seuls les 2 courriers et les 2 e-mails les plus récents sont affichés." in html
