"""The member's pages: list, new message, thread (read, reply), attachment download; scoping."""

import datetime as dt
import html
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portail.accounts.tests.test_services import create_account
from portail.messaging import services
from portail.messaging.enums import ThreadStatus, Topic
from portail.messaging.factories import AgentFactory, image_bytes, pdf_bytes, uploaded
from portail.messaging.models import Attachment, Message, Thread
from portail.registry.factories import MemberFactory

NOW = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)


def main_text(response) -> str:
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def logged_in(client, member):
    client.force_login(create_account(member).user)
    return client


def start(member, subject="Ma carte Vitale ne marche plus", now=NOW, **kwargs):
    body = "Bonjour, ma carte est abîmée."
    return services.thread_start(member=member, topic=Topic.VITALE_CARD, subject=subject, body=body, now=now, **kwargs)


def answer(thread, now=NOW + dt.timedelta(hours=2), body="Une nouvelle carte vous est envoyée."):
    return services.message_reply_by_agent(thread=thread, agent=AgentFactory(), body=body, now=now)


@pytest.mark.django_db
class TestThreadList:
    def test_empty(self, logged_in):
        response = logged_in.get(reverse("messaging:threads"))
        assert response.status_code == HTTPStatus.OK
        text = main_text(response)
        assert "Vous n'avez encore écrit aucun message" in text
        assert "Écrire un nouveau message" in text

    def test_in_the_member_menu(self, logged_in):
        page = logged_in.get(reverse("accounts:home")).content.decode()
        assert f'href="{reverse("messaging:threads")}"' in page

    def test_status_unread_and_order(self, logged_in, member):
        waiting = start(member, subject="En attente", now=NOW)
        answered = start(member, subject="Répondu et non lu", now=NOW - dt.timedelta(days=3))
        answer(answered, now=NOW + dt.timedelta(hours=1))
        closed = start(member, subject="Clos", now=NOW - dt.timedelta(days=30))
        services.thread_close(thread=closed, agent=AgentFactory(), now=NOW - dt.timedelta(days=29))
        start(MemberFactory(), subject="Celui d'un autre")

        response = logged_in.get(reverse("messaging:threads"))
        text = main_text(response)
        assert "Celui d'un autre" not in text
        assert text.index("Répondu et non lu") < text.index("En attente") < text.index("Clos Carte Vitale")
        row = text[text.index("Répondu et non lu") :]
        assert row.startswith("Répondu et non lu Non lu Carte Vitale 10/04/2026")
        assert "En attente Carte Vitale 10/04/2026 11:00 En attente de réponse" in text
        assert "Clos Carte Vitale 11/03/2026" in text
        assert text.count("Non lu") == 1
        assert waiting.pk != answered.pk

    def test_same_number_of_queries_for_1_or_6_threads(self, logged_in, member):
        start(member)
        logged_in.get(reverse("messaging:threads"))  # the first request of a session costs more
        with CaptureQueriesContext(connection) as one:
            logged_in.get(reverse("messaging:threads"))
        for index in range(5):
            answer(start(member, subject=f"Objet {index}"))
        with CaptureQueriesContext(connection) as six:
            response = logged_in.get(reverse("messaging:threads"))
        assert main_text(response).count("Non lu") == 5
        assert len(six) == len(one)


@pytest.mark.django_db
class TestNewMessage:
    def test_the_form(self, logged_in):
        page = logged_in.get(reverse("messaging:thread_new")).content.decode()
        assert 'enctype="multipart/form-data"' in page
        assert 'maxlength="4000"' in page
        assert 'aria-live="polite"' in page
        assert re.search(r'<script src="[^"]*messaging/counter[^"]*\.js" defer></script>', page)
        assert "<script>" not in page and " style=" not in page
        for label in ("Thème", "Objet", "Votre message", "Pièce jointe (facultatif)"):
            assert f">{label}</label>" in page

    def test_sends_and_shows_the_thread(self, logged_in, member):
        response = logged_in.post(
            reverse("messaging:thread_new"),
            {
                "topic": Topic.CERTIFICATE,
                "subject": "  Attestation   de droits ",
                "body": "Bonjour,\r\nPouvez-vous m'envoyer une attestation ?",
                "attachment": uploaded("Courrier employeur.pdf", pdf_bytes()),
            },
        )
        thread = Thread.objects.get()
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == reverse("messaging:thread", args=[thread.pk])
        assert (thread.member, thread.topic, thread.subject) == (member, Topic.CERTIFICATE, "Attestation de droits")
        assert Attachment.objects.get().original_name == "Courrier employeur.pdf"
        text = main_text(logged_in.get(response["Location"]))
        assert "Votre message est envoyé." in text
        assert "Pouvez-vous m'envoyer une attestation ?" in text
        assert "Télécharger Courrier employeur.pdf (PDF, 1 Ko)" in text

    @pytest.mark.parametrize(
        ("data", "field", "error"),
        [
            ({"topic": "", "subject": "Objet", "body": "Texte"}, "topic", "Choisissez le thème de votre message."),
            ({"topic": "other", "subject": "", "body": "Texte"}, "subject", "Écrivez l'objet de votre message."),
            ({"topic": "other", "subject": "Objet", "body": " "}, "body", "Écrivez votre message."),
            (
                {"topic": "other", "subject": "Objet", "body": "x" * 4001},
                "body",
                "Votre message fait 4001 caractères : 4000 au plus. Raccourcissez-le.",
            ),
        ],
    )
    def test_errors_tied_to_their_field(self, logged_in, data, field, error):
        response = logged_in.post(reverse("messaging:thread_new"), data)
        assert response.status_code == HTTPStatus.OK
        page = html.unescape(response.content.decode())
        assert f'<a href="#id_{field}">{error}</a>' in page
        assert f'<p class="field-error" id="id_{field}_error">' in page
        assert re.search(rf'id="id_{field}"[^>]*aria-describedby="[^"]*id_{field}_error', page) or re.search(
            rf'aria-describedby="[^"]*id_{field}_error[^"]*"[^>]*id="id_{field}"', page
        )
        assert not Thread.objects.exists()

    def test_4000_characters_with_line_breaks_fit(self, logged_in):
        body = ("b" * 99 + "\r\n") * 39 + "b" * 100  # 4 000 characters with one per line break, 4 039 sent
        response = logged_in.post(reverse("messaging:thread_new"), {"topic": "other", "subject": "Long", "body": body})
        assert response.status_code == HTTPStatus.FOUND
        assert len(Message.objects.get().body) == 4000

    def test_a_file_big_enough_to_go_through_a_temporary_file(self, logged_in, settings):
        from portail.messaging.tests.test_attachments import png_of_exact_size

        data = png_of_exact_size(4 * 1024 * 1024)
        assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        response = logged_in.post(
            reverse("messaging:thread_new"),
            {"topic": "other", "subject": "Scan", "body": "Voici", "attachment": uploaded("scan.png", data)},
        )
        assert response.status_code == HTTPStatus.FOUND
        attachment = Attachment.objects.get()
        assert (settings.PORTAIL_ATTACHMENTS_DIR / attachment.file.name).read_bytes() == data

    def test_a_lying_attachment_is_refused_and_the_text_kept(self, logged_in):
        response = logged_in.post(
            reverse("messaging:thread_new"),
            {
                "topic": "other",
                "subject": "Ma photo",
                "body": "Voici ma photo.",
                "attachment": uploaded("photo.pdf", image_bytes("PNG"), "application/pdf"),
            },
        )
        assert response.status_code == HTTPStatus.OK
        page = html.unescape(response.content.decode())
        assert "son nom ne correspond pas à son contenu" in page
        assert 'id="id_attachment_error"' in page
        assert "Voici ma photo." in page
        assert not Thread.objects.exists()


@pytest.mark.django_db
class TestThreadPage:
    def test_reading_shows_who_wrote_and_marks_read(self, logged_in, member):
        thread = start(member)
        answer(thread)
        assert Thread.objects.for_member(member).unread_for_member().exists()
        text = main_text(logged_in.get(reverse("messaging:thread", args=[thread.pk])))
        assert text.index("Vous le 10/04/2026 à 11:00") < text.index("Votre caisse le 10/04/2026 à 13:00 Nouveau")
        assert "Une nouvelle carte vous est envoyée." in text
        assert "Répondre" in text
        assert not Thread.objects.for_member(member).unread_for_member().exists()
        again = main_text(logged_in.get(reverse("messaging:thread", args=[thread.pk])))
        assert "Nouveau" not in again

    def test_reply(self, logged_in, member):
        thread = start(member)
        answer(thread)
        response = logged_in.post(
            reverse("messaging:thread", args=[thread.pk]),
            {"body": "Merci, je l'ai reçue.", "attachment": uploaded("carte.jpg", image_bytes("JPEG"))},
        )
        assert response.status_code == HTTPStatus.FOUND
        thread.refresh_from_db()
        assert thread.status == ThreadStatus.OPEN
        assert thread.messages.count() == 3
        assert Attachment.objects.get().content_type == "image/jpeg"

    def test_a_closed_thread_takes_no_reply_and_says_what_to_do(self, logged_in, member):
        thread = start(member)
        services.thread_close(thread=thread, agent=AgentFactory(), now=NOW + dt.timedelta(days=1))
        page = logged_in.get(reverse("messaging:thread", args=[thread.pk]))
        text = main_text(page)
        assert "Cette conversation est close" in text
        assert "écrire un nouveau message" in text
        assert 'name="body"' not in page.content.decode()
        response = logged_in.post(reverse("messaging:thread", args=[thread.pk]), {"body": "Encore moi"}, follow=True)
        assert "Cette conversation est close : écrivez un nouveau message." in main_text(response)
        assert thread.messages.count() == 1


@pytest.mark.django_db
class TestAttachmentDownload:
    def test_headers(self, logged_in, member):
        data = pdf_bytes()
        start(member, attachment=uploaded("Relevé « mars ».pdf", data))
        attachment = Attachment.objects.get()
        response = logged_in.get(reverse("messaging:attachment", args=[attachment.pk]))
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''Relev%C3%A9%20mars.pdf" in response["Content-Disposition"]
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == data
        response.close()

    def test_an_agents_attachment_too(self, logged_in, member):
        thread = start(member)
        services.message_reply_by_agent(
            thread=thread,
            agent=AgentFactory(),
            body="Voici votre attestation.",
            attachment=uploaded("attestation.png", image_bytes("PNG")),
            now=NOW,
        )
        response = logged_in.get(reverse("messaging:attachment", args=[Attachment.objects.get().pk]))
        response.close()
        assert response["Content-Type"] == "image/png"


@pytest.mark.django_db
class TestAnotherMembersThread:
    def test_thread_and_attachment_give_404(self, logged_in):
        thread = start(MemberFactory(), attachment=uploaded("a.pdf", pdf_bytes()))
        attachment = Attachment.objects.get()
        assert logged_in.get(reverse("messaging:thread", args=[thread.pk])).status_code == HTTPStatus.NOT_FOUND
        response = logged_in.post(reverse("messaging:thread", args=[thread.pk]), {"body": "Intrus"})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert thread.messages.count() == 1
        assert logged_in.get(reverse("messaging:attachment", args=[attachment.pk])).status_code == HTTPStatus.NOT_FOUND

    def test_reading_someone_elses_thread_marks_nothing(self, logged_in):
        thread = start(MemberFactory())
        answer(thread)
        logged_in.get(reverse("messaging:thread", args=[thread.pk]))
        assert Thread.objects.unread_for_member().filter(pk=thread.pk).exists()

    @pytest.mark.parametrize("name", ["messaging:threads", "messaging:thread_new"])
    def test_logged_out_goes_to_login(self, client, name):
        response = client.get(reverse(name))
        assert response.status_code == HTTPStatus.FOUND
