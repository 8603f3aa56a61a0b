"""A member's question answered through the agents' inbox, in a real browser (axe-core checks every page).

The member writes with a PDF attached and logs out; an agent logs in (password, then the TOTP code),
finds the thread in the inbox, opens it and answers; the demo letterbox shows the notice e-mail without
the answer's text; the member logs in again, sees « Non lu » and reads the answer.
"""

import datetime as dt
import re

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from reportlab.pdfgen import canvas

from portail.accounts.tests.test_services import PERSONAL_CODE, create_account
from portail.backoffice.enums import AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.testing import AGENT_PASSWORD, agent_make, token_for
from portail.messaging.enums import ThreadStatus
from portail.messaging.factories import ThreadFactory
from portail.registry.factories import MemberFactory

SUBJECT = "Remboursement d'une échographie"
QUESTION = "Bonjour, je n'ai pas été remboursée de l'échographie du 2 février. Merci."
ANSWER = "Votre échographie a été remboursée le 9 mars, sur votre compte habituel."
NOTICE_SUBJECT = "Vous avez un nouveau message dans votre compte"


def prescription_pdf(tmp_path):
    path = tmp_path / "Prescription.pdf"
    drawing = canvas.Canvas(str(path))
    drawing.drawString(72, 760, "Prescription d'échographie")
    drawing.showPage()
    drawing.save()
    return path


def member_log_in(page, live_url, member):
    page.goto(live_url("public:member_space"))
    page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
    page.get_by_label("Code personnel ou code provisoire").fill(PERSONAL_CODE)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Messagerie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messagerie")


class TestQuestionAnsweredThroughTheInbox:
    def test_member_writes_agent_answers_member_reads(self, page, live_url, tmp_path):
        member = MemberFactory(first_names="Inès", last_name="Garnier")
        account = create_account(member)
        account.email = "ines.garnier@example.org"
        account.email_verified_at = timezone.now()
        account.save()
        agent = agent_make(role=AgentRole.AGENT, username="c.martin")

        # 1. The member writes, with a PDF, then logs out.
        member_log_in(page, live_url, member)
        page.get_by_role("link", name="Écrire un nouveau message").first.click()
        page.get_by_label("Thème").select_option(label="Remboursement")
        page.get_by_label("Objet").fill(SUBJECT)
        page.get_by_label("Votre message").fill(QUESTION)
        page.get_by_label("Pièce jointe (facultatif)").set_input_files(prescription_pdf(tmp_path))
        page.get_by_role("button", name="Envoyer le message").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté")

        # 2. An agent logs in with the password and the TOTP code, finds the thread, opens it, answers.
        page.goto(live_url("backoffice:login"))
        page.get_by_label("Identifiant").fill(agent.username)
        page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Code à 6 chiffres").fill(token_for(TOTPDevice.objects.get(user=agent)))
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
        page.get_by_role("navigation", name="Espace agents").get_by_role("link", name="Messages").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Messages des assurés")
        row = page.get_by_role("row").filter(has_text=SUBJECT)
        expect(row).to_contain_text("Garnier Inès")
        expect(row).to_contain_text(member.nir_masked)
        expect(row).to_contain_text(re.compile(r"depuis \d+ min"))
        expect(row).to_contain_text("Non lu")
        row.get_by_role("link", name=SUBJECT).click()

        expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
        expect(page.get_by_text(QUESTION)).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile(r"Télécharger Prescription\.pdf")).click()
        assert download.value.suggested_filename == "Prescription.pdf"
        page.get_by_label("Votre réponse à l'assuré").fill(ANSWER)
        page.get_by_role("button", name="Envoyer la réponse").click()
        expect(page.get_by_text("Votre réponse est envoyée.")).to_be_visible()
        expect(page.get_by_text(ANSWER)).to_be_visible()
        assert AgentAccess.objects.filter(agent=agent, member=member, action=AgentAction.MEMBER_VIEWED).exists()
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Espace agents")

        # 3. The notice e-mail waits in the demo letterbox: the subject, never the answer.
        page.goto(live_url("demo:letterbox"))
        notice = page.get_by_role("article").filter(has_text=NOTICE_SUBJECT)
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text(account.email)
        expect(notice).not_to_contain_text(ANSWER)
        expect(page.locator("body")).not_to_contain_text("remboursée le 9 mars")

        # 4. The member logs in again: « Non lu » in the list, then the answer on the thread page.
        member_log_in(page, live_url, member)
        row = page.get_by_role("row").filter(has_text=SUBJECT)
        expect(row).to_contain_text("Non lu")
        expect(row).to_contain_text("Répondu")
        row.get_by_role("link", name=SUBJECT).click()
        expect(page.get_by_text(ANSWER)).to_be_visible()
        expect(page.get_by_role("heading", name="Votre caisse")).to_contain_text("Nouveau")

    def test_agent_sees_the_late_thread_assigns_and_closes_it(self, page, live_url):
        late = ThreadFactory(
            subject="Carte Vitale perdue",
            member=MemberFactory(first_names="Paul", last_name="Roux"),
            created_at=timezone.now() - dt.timedelta(days=3),
        )
        agent = agent_make(role=AgentRole.AGENT, username="c.martin")
        page.goto(live_url("backoffice:inbox"))
        page.get_by_label("Identifiant").fill(agent.username)
        page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Code à 6 chiffres").fill(token_for(TOTPDevice.objects.get(user=agent)))
        page.get_by_role("button", name="Se connecter").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Messages des assurés")
        expect(page.get_by_role("status")).to_contain_text("1 conversation attend une réponse depuis plus de 48 h")
        row = page.get_by_role("row").filter(has_text=late.subject)
        expect(row).to_contain_text("depuis 3 jours")
        expect(row).to_contain_text("Délai dépassé")
        page.get_by_label("Agent chargé").select_option(label="Personne (non attribuées)")
        page.get_by_role("button", name="Filtrer").click()
        # Wait for the filtered list itself before following one of its links.
        expect(page).to_have_url(re.compile(r"agent=personne"))
        page.wait_for_load_state("load")
        row.get_by_role("link", name=late.subject).click()

        expect(page.get_by_role("status")).to_contain_text("au-delà du délai cible de 48 h")
        page.get_by_role("button", name="M'attribuer cette conversation").click()
        expect(page.get_by_text("Cette conversation vous est attribuée.")).to_be_visible()
        page.get_by_role("link", name="Clore la conversation").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Clore cette conversation ?")
        page.get_by_role("button", name="Oui, clore la conversation").click()
        expect(page.get_by_text("La conversation est close.")).to_be_visible()
        late.refresh_from_db()
        assert (late.status, late.assigned_to, late.closed_by) == (ThreadStatus.CLOSED, agent, agent)
