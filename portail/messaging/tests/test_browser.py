"""Secure messaging in a real browser (axe-core checks every page visited).

A member logs in, writes to the fund with a PDF attached (the counter counts), sees the thread; an
agent answers (through the service, as the back office will); the member reloads the list, sees
"Non lu", reads the answer, and the thread is read.
"""

import re

from django.utils import timezone
from playwright.sync_api import expect

from portail.accounts.tests.test_services import PERSONAL_CODE, create_account
from portail.messaging import services
from portail.messaging.factories import AgentFactory, image_bytes, pdf_bytes
from portail.messaging.models import Thread
from portail.registry.factories import MemberFactory

SUBJECT = "Remboursement de séances de kinésithérapie"
ANSWER = "Les trois séances ont été remboursées le 4 avril."


def log_in(page, live_url, member):
    """Log in through the login page, then open the messaging from the member menu."""
    page.goto(live_url("public:member_space"))
    page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
    page.get_by_label("Code personnel ou code provisoire").fill(PERSONAL_CODE)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Messagerie").click()


class TestSecureMessaging:
    def test_write_with_an_attachment_then_read_the_answer(self, page, live_url):
        member = MemberFactory(first_names="Inès", last_name="Garnier")
        create_account(member)

        log_in(page, live_url, member)
        expect(page.get_by_role("heading", level=1)).to_have_text("Messagerie")
        expect(page.get_by_text("Vous n'avez encore écrit aucun message")).to_be_visible()

        page.get_by_role("link", name="Écrire un nouveau message").first.click()
        page.get_by_label("Thème").select_option(label="Remboursement")
        page.get_by_label("Objet").fill(SUBJECT)
        body = page.get_by_label("Votre message")
        text = "Bonjour, j'attends le remboursement de trois séances de février."
        body.fill(text)
        left = f"{4000 - len(text):,}".replace(",", "\u202f")  # French digit grouping: a narrow no-break space
        expect(page.get_by_text(f"Il vous reste {left} caractères.", exact=True)).to_be_visible()
        page.get_by_label("Pièce jointe (facultatif)").set_input_files(
            {"name": "Prescription.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("Prescription")}
        )
        page.get_by_role("button", name="Envoyer le message").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
        expect(page.get_by_text("Votre message est envoyé.")).to_be_visible()
        expect(page.get_by_role("link", name="Télécharger Prescription.pdf (PDF, 1 Ko)")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="Télécharger Prescription.pdf (PDF, 1 Ko)").click()
        assert download.value.suggested_filename == "Prescription.pdf"

        page.get_by_role("link", name="Revenir à la liste des messages").click()
        row = page.get_by_role("row").filter(has_text=SUBJECT)
        expect(row).to_contain_text("En attente de réponse")
        expect(row).not_to_contain_text("Non lu")

        # An agent answers, as the back office will.
        thread = Thread.objects.get(member=member)
        services.message_reply_by_agent(thread=thread, agent=AgentFactory(), body=ANSWER, now=timezone.now())

        page.reload()
        expect(row).to_contain_text("Non lu")
        expect(row).to_contain_text("Répondu")
        row.get_by_role("link", name=SUBJECT).click()
        expect(page.get_by_text(ANSWER)).to_be_visible()
        expect(page.get_by_role("heading", name="Votre caisse")).to_contain_text("Nouveau")

        page.get_by_role("link", name="Revenir à la liste des messages").click()
        expect(row).to_contain_text("Répondu")
        expect(row).not_to_contain_text("Non lu")

    def test_a_lying_attachment_shows_its_error_by_the_field(self, page, live_url):
        member = MemberFactory()
        create_account(member)
        log_in(page, live_url, member)
        page.get_by_role("link", name="Écrire un nouveau message").first.click()
        page.get_by_label("Thème").select_option(label="Attestation")
        page.get_by_label("Objet").fill("Attestation de droits")
        page.get_by_label("Votre message").fill("Voici la photo de mon courrier.")
        page.get_by_label("Pièce jointe (facultatif)").set_input_files(
            {"name": "courrier.pdf", "mimeType": "application/pdf", "buffer": image_bytes("PNG")}
        )
        page.get_by_role("button", name="Envoyer le message").click()

        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Il y a un problème")
        summary.get_by_role("link").click()
        expect(page.get_by_label("Pièce jointe (facultatif)")).to_be_focused()
        expect(page.get_by_label("Pièce jointe (facultatif)")).to_have_accessible_description(
            re.compile("son nom ne correspond pas à son contenu")
        )
        expect(page.get_by_label("Votre message")).to_have_value("Voici la photo de mon courrier.")
