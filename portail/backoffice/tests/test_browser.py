"""An agent logs in (password, then TOTP) and looks a member up; axe-core checks every page."""

import re

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from portail.backoffice.enums import AccessReason, AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.services import agent_create
from portail.backoffice.testing import AGENT_PASSWORD, agent_make, token_for
from portail.registry.factories import MemberFactory

NEW_PASSWORD = "une phrase de passe bien longue 2025"


class TestAgentJourney:
    def test_login_with_totp_and_member_lookup(self, page, live_url):
        agent = agent_make(role=AgentRole.SUPERVISOR, username="c.martin")
        member = MemberFactory(last_name="Dubois", first_names="Anne")
        page.goto(live_url("backoffice:dashboard"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Espace agents")
        page.get_by_label("Identifiant").fill(agent.username)
        page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
        page.get_by_role("button", name="Continuer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Code de vérification")
        page.get_by_label("Code à 6 chiffres").fill(token_for(TOTPDevice.objects.get(user=agent)))
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")

        page.get_by_role("navigation", name="Espace agents").get_by_role("link", name="Rechercher un assuré").click()
        page.get_by_label("Motif de la consultation").select_option(AccessReason.MEMBER_CALL.value)
        page.get_by_label("Numéro de sécurité sociale").fill(member.nir_parsed.formatted)
        page.get_by_role("button", name="Rechercher").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dubois Anne")
        expect(page.get_by_text(member.nir_masked)).to_be_visible()
        assert AgentAccess.objects.filter(agent=agent, member=member, action=AgentAction.MEMBER_VIEWED).count() == 1

        page.get_by_role("link", name="Journal des accès").click()
        expect(page.get_by_role("cell", name=re.compile("Dubois"))).to_be_visible()

    def test_first_login_enrolment(self, page, live_url):
        created = agent_create(username="n.petit", role=AgentRole.AGENT)
        page.goto(live_url("backoffice:login"))
        page.get_by_label("Identifiant").fill("n.petit")
        page.get_by_label("Mot de passe").fill(created.password)
        page.get_by_role("button", name="Continuer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
        expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
        device = TOTPDevice.objects.get(user=created.user, confirmed=False)
        page.get_by_label("Code à 6 chiffres").fill(token_for(device))
        page.get_by_role("button", name="Activer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez votre mot de passe")
        page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Enregistrer et continuer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
