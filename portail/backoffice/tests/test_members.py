from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.accounts import security
from portail.accounts.enums import ProvisionalCodeStatus, SecurityEventKind
from portail.accounts.models import ProvisionalCode, SecurityEvent
from portail.accounts.security import nir_digest
from portail.accounts.services import provisional_code_issue
from portail.backoffice.enums import AccessReason, AgentAction
from portail.backoffice.models import AgentAccess
from portail.post.enums import LetterKind
from portail.post.models import Email, Letter
from portail.registry.factories import MemberFactory

CALL = AccessReason.MEMBER_CALL


def member_url(member, reason=CALL):
    url = reverse("backoffice:member", args=[member.pk])
    return f"{url}?motif={reason}" if reason else url


def lock(member, settings):
    for _ in range(settings.PORTAIL_LOGIN_MAX_FAILURES):
        security.lockout_register_failure(digest=nir_digest(member.nir), now=timezone.now())


@pytest.mark.django_db
class TestSearch:
    def test_by_nir_opens_the_file_with_the_reason(self, as_agent, agent, member):
        response = as_agent.post(
            reverse("backoffice:member_search"), {"reason": CALL, "nir": member.nir_parsed.formatted}
        )
        assert response["Location"] == member_url(member)
        search = AgentAccess.objects.get(action=AgentAction.MEMBER_SEARCH)
        assert (search.agent, search.reason) == (agent, CALL)
        assert member.nir not in search.detail

    def test_the_reason_comes_first(self, as_agent, member):
        response = as_agent.post(reverse("backoffice:member_search"), {"nir": member.nir})
        assert response.status_code == HTTPStatus.OK
        assert "Choisissez le motif" in response.content.decode()
        assert member.last_name not in response.content.decode()
        assert not AgentAccess.objects.exists()

    def test_a_wrong_nir_is_explained(self, as_agent):
        response = as_agent.post(reverse("backoffice:member_search"), {"reason": CALL, "nir": "1 85 13 75"})
        assert "le numéro en compte 13" in response.content.decode()

    def test_nir_or_name_and_birth_date(self, as_agent):
        response = as_agent.post(reverse("backoffice:member_search"), {"reason": CALL, "last_name": "Martin"})
        assert "Saisissez la date de naissance" in response.content.decode()

    @pytest.mark.parametrize("typed", ["lefevre", "LEFÈVRE", " Lefèvre "])
    def test_by_name_and_birth_date_ignores_case_and_accents(self, as_agent, member, typed):
        MemberFactory(last_name="Lefèvre", birth_date=member.birth_date.replace(year=1981))
        twin = MemberFactory(last_name="Lefèvre-Martin", birth_date=member.birth_date)
        response = as_agent.post(
            reverse("backoffice:member_search"), {"reason": CALL, "last_name": typed, "birth_date": "17/05/1980"}
        )
        body = response.content.decode()
        assert "2 assurés trouvés" in body
        assert member_url(member).replace("&", "&amp;") in body or member_url(member) in body
        assert twin.first_names in body
        assert member.nir not in body

    def test_nobody_found(self, as_agent):
        response = as_agent.post(
            reverse("backoffice:member_search"), {"reason": CALL, "last_name": "Personne", "birth_date": "01/01/1950"}
        )
        assert "Aucun assuré trouvé" in response.content.decode()
        assert AgentAccess.objects.get().detail.endswith("0 résultat(s)")


@pytest.mark.django_db
class TestMemberFile:
    def test_no_reason_no_data_no_row(self, as_agent, member):
        response = as_agent.get(member_url(member, reason=None))
        assert response.status_code == HTTPStatus.OK
        assert member.last_name not in response.content.decode()
        assert not AgentAccess.objects.exists()
        bad = as_agent.get(member_url(member, reason="curiosity"))
        assert member.last_name not in bad.content.decode()
        assert not AgentAccess.objects.exists()

    @pytest.mark.parametrize("reason", list(AccessReason))
    def test_every_consultation_adds_one_row(self, as_agent, agent, member, reason):
        for expected in (1, 2):
            response = as_agent.get(member_url(member, reason))
            assert response.status_code == HTTPStatus.OK
            assert AgentAccess.objects.filter(action=AgentAction.MEMBER_VIEWED).count() == expected
        row = AgentAccess.objects.filter(action=AgentAction.MEMBER_VIEWED).first()
        assert (row.agent, row.member, row.reason) == (agent, member, reason)
        assert row.created_at is not None

    def test_shows_state_but_never_a_code_an_answer_or_a_hash(self, as_agent, member, member_account, settings):
        code = provisional_code_issue(member=member, now=timezone.now())
        letter = Letter.objects.get(member=member)
        secret = letter.secret_context.get("code", "")
        lock(member, settings)
        body = as_agent.get(member_url(member)).content.decode()
        assert member.last_name in body
        assert member.address_line1 in body
        assert member.nir_masked in body
        assert member.nir not in body
        assert "Actif" in body and member_account.email in body
        assert "Bloquée jusqu" in body
        assert str(code.get_status_display()) in body
        assert str(LetterKind.PROVISIONAL_CODE.label) in body
        for forbidden in (code.code_hash, member_account.secret_answer_hash, member_account.user.password, "argon2"):
            assert forbidden not in body
        if secret:
            assert secret not in body

    def test_a_member_without_account(self, as_agent):
        body = as_agent.get(member_url(MemberFactory())).content.decode()
        assert "Aucun compte" in body

    def test_an_unknown_member_is_404(self, as_agent):
        assert as_agent.get(reverse("backoffice:member", args=[999999])).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
class TestUnlock:
    def post(self, client, member, reason=CALL, note=""):
        return client.post(
            reverse("backoffice:member_unlock", args=[member.pk]),
            {"motif": CALL, "unlock-reason": reason, "unlock-note": note},
        )

    def test_unlock_is_effective_audited_and_confirmed_by_email(
        self, as_agent, agent, member, member_account, settings
    ):
        lock(member, settings)
        response = self.post(as_agent, member, note="appel du 12")
        assert response["Location"] == member_url(member)
        assert security.lockout_until(digest=nir_digest(member.nir), now=timezone.now()) is None
        assert SecurityEvent.objects.filter(member=member, kind=SecurityEventKind.ACCOUNT_UNLOCKED).count() == 1
        row = AgentAccess.objects.get(action=AgentAction.ACCOUNT_UNLOCKED)
        assert (row.agent, row.member, row.reason, row.detail) == (agent, member, CALL, "appel du 12")
        email = Email.objects.get(member=member)
        assert email.to == member_account.email
        assert "débloqué" in email.subject

    def test_no_email_without_a_verified_address(self, as_agent, member, settings):
        from portail.backoffice.tests.conftest import account_make

        account_make(member, verified=False)
        lock(member, settings)
        self.post(as_agent, member)
        assert not Email.objects.exists()
        assert SecurityEvent.objects.filter(kind=SecurityEventKind.ACCOUNT_UNLOCKED).exists()

    def test_not_locked_changes_nothing_but_is_audited(self, as_agent, member, member_account):
        self.post(as_agent, member)
        assert not Email.objects.exists()
        assert not SecurityEvent.objects.filter(kind=SecurityEventKind.ACCOUNT_UNLOCKED).exists()
        assert AgentAccess.objects.get(action=AgentAction.ACCOUNT_UNLOCKED).detail.startswith("aucun blocage")

    def test_the_reason_is_required(self, as_agent, member, settings):
        lock(member, settings)
        response = self.post(as_agent, member, reason="")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Choisissez le motif" in response.content.decode()
        assert security.lockout_until(digest=nir_digest(member.nir), now=timezone.now()) is not None
        assert not AgentAccess.objects.filter(action=AgentAction.ACCOUNT_UNLOCKED).exists()


@pytest.mark.django_db
class TestNewProvisionalCode:
    def post(self, client, member, reason=CALL):
        return client.post(
            reverse("backoffice:member_code", args=[member.pk]),
            {"motif": CALL, "code-reason": reason, "code-note": ""},
        )

    def test_a_new_code_goes_by_post_and_replaces_the_old_one(self, as_agent, agent, member):
        old = provisional_code_issue(member=member, now=timezone.now())
        response = self.post(as_agent, member)
        assert response["Location"] == member_url(member)
        old.refresh_from_db()
        assert old.status == ProvisionalCodeStatus.REPLACED
        new = ProvisionalCode.objects.get(member=member, status=ProvisionalCodeStatus.ACTIVE)
        assert new.letter.recipient_address_line1 == member.address_line1
        assert Letter.objects.filter(member=member, kind=LetterKind.PROVISIONAL_CODE).count() == 2
        row = AgentAccess.objects.get(action=AgentAction.PROVISIONAL_CODE_SENT)
        assert (row.agent, row.member, row.reason) == (agent, member, CALL)
        assert SecurityEvent.objects.filter(member=member, kind=SecurityEventKind.CODE_ORDERED).exists()

    def test_an_ineligible_member_gets_nothing(self, as_agent):
        member = MemberFactory(ineligible=True)
        response = self.post(as_agent, member)
        assert response.status_code == HTTPStatus.FOUND
        assert not ProvisionalCode.objects.exists()
        assert not AgentAccess.objects.filter(action=AgentAction.PROVISIONAL_CODE_SENT).exists()
        follow = as_agent.get(response["Location"])
        assert "autre régime" in follow.content.decode()

    def test_without_a_consultation_reason_back_to_the_file(self, as_agent, member):
        response = as_agent.post(reverse("backoffice:member_code", args=[member.pk]), {"code-reason": CALL})
        assert response["Location"] == member_url(member, reason=None)
        assert not ProvisionalCode.objects.exists()
