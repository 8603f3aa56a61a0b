import datetime as dt

import pytest
import time_machine
from django.db import transaction

from portail.accounts import security, services
from portail.accounts.enums import ProvisionalCodeStatus, SecretQuestion, SecurityEventKind
from portail.accounts.models import Account, CodeOrder, ProvisionalCode, SecurityEvent
from portail.accounts.services import LoginStatus
from portail.post.models import Letter
from portail.registry.factories import MemberFactory
from portail.registry.nir import nir_generate, parse_nir

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PERSONAL_CODE = "48207315"


def issue(member, now=START):
    """Issue a code and read it back from the letter before it is rendered."""
    # Read it inside the transaction: once it commits, the letter is rendered and the secret wiped.
    with transaction.atomic():
        provisional = services.provisional_code_issue(member=member, now=now)
        code = Letter.objects.get(pk=provisional.letter_id).secret_context["code"]
    return provisional, code


def order(member, now=START, ip="203.0.113.5", **overrides):
    values = {
        "nir": member.nir_parsed,
        "last_name": member.last_name,
        "birth_date": member.birth_date,
        "postal_code": member.postal_code,
    }
    values.update(overrides)
    return services.provisional_code_order(client_ip=ip, now=now, **values)


def create_account(member, now=START):
    provisional, code = issue(member, now)
    return services.account_create(
        member_id=member.pk,
        code_id=provisional.pk,
        provisional_code=code,
        personal_code=PERSONAL_CODE,
        secret_question=SecretQuestion.FIRST_PET,
        secret_answer="Médor",
        terms_accepted_at=now,
        client_ip="203.0.113.5",
        now=now,
    )


def unknown_nir():
    import random

    while True:
        nir = nir_generate(sex="1", birth_date=dt.date(1980, 5, 17), rng=random.Random())
        if not services.Member.objects.filter(nir=nir.number).exists():
            return nir


@pytest.mark.django_db
class TestProvisionalCodeOrder:
    def test_a_match_issues_a_code_and_a_letter_to_the_address_on_file(self):
        member = MemberFactory()
        assert order(member, postal_code=f" {member.postal_code} ").accepted
        code = ProvisionalCode.objects.get(member=member)
        assert code.status == ProvisionalCodeStatus.ACTIVE
        assert code.expires_at == START + dt.timedelta(days=15)
        letter = Letter.objects.get(member=member)
        assert letter.pk == code.letter_id
        assert len(letter.secret_context["code"]) == 8 and letter.secret_context["code"].isdigit()
        assert letter.secret_context["code"] not in code.code_hash
        assert SecurityEvent.objects.filter(member=member, kind=SecurityEventKind.CODE_ORDERED).exists()

    @pytest.mark.parametrize(
        "typed",
        ["{name}", "{lower}", "  {lower}  "],
    )
    def test_the_name_compares_without_case_or_spaces(self, typed):
        member = MemberFactory(last_name="Lefèvre-Dupont")
        order(member, last_name=typed.format(name=member.last_name, lower="lefevre dupont"))
        assert ProvisionalCode.objects.filter(member=member).exists()

    @pytest.mark.parametrize(
        "overrides",
        [
            {"last_name": "Autrenom"},
            {"birth_date": dt.date(1901, 1, 1)},
            {"postal_code": "00000"},
        ],
    )
    def test_no_match_issues_nothing_but_is_accepted_all_the_same(self, overrides):
        member = MemberFactory()
        assert order(member, **overrides).accepted
        assert not ProvisionalCode.objects.exists()
        assert not Letter.objects.exists()

    def test_an_ineligible_member_gets_no_code(self):
        member = MemberFactory(ineligible=True)
        assert order(member).accepted
        assert not ProvisionalCode.objects.exists()

    def test_a_new_order_replaces_the_previous_code(self):
        member = MemberFactory()
        order(member)
        order(member, now=START + dt.timedelta(days=2))
        statuses = list(ProvisionalCode.objects.order_by("issued_at").values_list("status", flat=True))
        assert statuses == [ProvisionalCodeStatus.REPLACED, ProvisionalCodeStatus.ACTIVE]

    def test_three_orders_per_nir_in_30_days_then_the_date_to_retry(self):
        member = MemberFactory()
        for day in range(3):
            assert order(member, now=START + dt.timedelta(days=day)).accepted
        refused = order(member, now=START + dt.timedelta(days=5))
        assert not refused.accepted
        assert refused.retry_at == START + dt.timedelta(days=30)
        assert order(member, now=START + dt.timedelta(days=30, seconds=1)).accepted

    def test_the_nir_limit_is_the_same_for_a_stranger(self):
        member = MemberFactory()
        stranger = MemberFactory.build(nir=unknown_nir().number)
        results = []
        for person in (member, stranger):
            for day in range(4):
                results.append(order(person, now=START + dt.timedelta(days=day), ip=None).accepted)
        assert results == [True, True, True, False] * 2

    def test_orders_per_client_address_are_limited(self, settings):
        settings.PORTAIL_CODE_ORDERS_PER_CLIENT = 2
        members = MemberFactory.create_batch(3)
        assert order(members[0]).accepted
        assert order(members[1]).accepted
        refused = order(members[2])
        assert not refused.accepted
        assert refused.retry_at == START + dt.timedelta(hours=24)
        assert CodeOrder.objects.count() == 2


@pytest.mark.django_db
class TestLogin:
    def login(self, member_or_nir, secret, now=START, ip="203.0.113.9"):
        nir = member_or_nir if not hasattr(member_or_nir, "nir") else parse_nir(member_or_nir.nir)
        return services.login_attempt(nir=nir, secret=secret, client_ip=ip, now=now)

    def test_a_valid_provisional_code_without_account_starts_enrolment(self):
        member = MemberFactory()
        provisional, code = issue(member)
        result = self.login(member, code)
        assert result.status is LoginStatus.ENROL
        assert (result.member_id, result.code_id) == (member.pk, provisional.pk)

    def test_the_provisional_code_expires_after_15_days(self):
        member = MemberFactory()
        provisional, code = issue(member)
        assert self.login(member, code, now=START + dt.timedelta(days=15, seconds=-1)).status is LoginStatus.ENROL
        assert self.login(member, code, now=START + dt.timedelta(days=15)).status is LoginStatus.FAILED
        provisional.refresh_from_db()
        assert provisional.status == ProvisionalCodeStatus.EXPIRED

    def test_the_code_dies_when_the_account_is_created(self):
        member = MemberFactory()
        provisional, code = issue(member)
        services.account_create(
            member_id=member.pk,
            code_id=provisional.pk,
            provisional_code=code,
            personal_code=PERSONAL_CODE,
            secret_question=SecretQuestion.FIRST_PET,
            secret_answer="Médor",
            terms_accepted_at=START,
            client_ip=None,
            now=START,
        )
        provisional.refresh_from_db()
        assert provisional.status == ProvisionalCodeStatus.USED
        assert self.login(member, code).status is LoginStatus.FAILED
        assert self.login(member, PERSONAL_CODE, now=START + dt.timedelta(minutes=1)).status is LoginStatus.SUCCESS

    def test_a_replaced_code_no_longer_works(self):
        member = MemberFactory()
        _, first = issue(member)
        _, second = issue(member, now=START + dt.timedelta(hours=1))
        assert ProvisionalCode.objects.filter(member=member, status=ProvisionalCodeStatus.REPLACED).count() == 1
        if first != second:
            assert self.login(member, first).status is LoginStatus.FAILED
        assert self.login(member, second).status is LoginStatus.ENROL

    def test_three_wrong_tries_void_the_code(self):
        member = MemberFactory()
        provisional, code = issue(member)
        wrong = f"{(int(code) + 1) % 10**8:08d}"
        for _ in range(3):
            self.login(member, wrong)
        provisional.refresh_from_db()
        assert provisional.status == ProvisionalCodeStatus.VOID
        # Even once the lock is over, the right code is dead.
        later = START + dt.timedelta(hours=1)
        assert self.login(member, code, now=later).status is LoginStatus.FAILED

    def test_wrong_code_and_unknown_nir_answer_alike(self):
        account = create_account(MemberFactory())
        known = [self.login(account.member, "11112222", now=START + dt.timedelta(seconds=i)) for i in range(4)]
        stranger = unknown_nir()
        unknown = [self.login(stranger, "11112222", now=START + dt.timedelta(seconds=i)) for i in range(4)]
        assert [(r.status, r.remaining_tries) for r in known] == [(r.status, r.remaining_tries) for r in unknown]
        assert [r.status for r in known] == [
            LoginStatus.FAILED,
            LoginStatus.FAILED,
            LoginStatus.LOCKED,
            LoginStatus.LOCKED,
        ]

    def test_each_new_lock_doubles_up_to_24_hours(self):
        account = create_account(MemberFactory())
        now = START
        durations = []
        for _ in range(9):
            for _ in range(3):
                result = self.login(account.member, "11112222", now=now)
            durations.append(result.locked_until - now)
            now = result.locked_until + dt.timedelta(seconds=1)
        assert durations[:4] == [dt.timedelta(minutes=m) for m in (15, 30, 60, 120)]
        assert durations[-1] == dt.timedelta(hours=24)
        assert SecurityEvent.objects.filter(kind=SecurityEventKind.ACCOUNT_LOCKED).count() == 9

    def test_a_locked_account_refuses_even_the_right_code(self):
        account = create_account(MemberFactory())
        for _ in range(3):
            self.login(account.member, "11112222")
        assert self.login(account.member, PERSONAL_CODE).status is LoginStatus.LOCKED
        assert self.login(account.member, PERSONAL_CODE, now=START + dt.timedelta(minutes=16)).status is (
            LoginStatus.SUCCESS
        )

    def test_success_resets_the_failure_count(self):
        account = create_account(MemberFactory())
        self.login(account.member, "11112222")
        self.login(account.member, "11112222")
        assert self.login(account.member, PERSONAL_CODE).status is LoginStatus.SUCCESS
        assert self.login(account.member, "11112222").remaining_tries == 2

    def test_a_provisional_code_on_an_existing_account_leads_to_recovery(self):
        account = create_account(MemberFactory())
        provisional, code = issue(account.member, now=START + dt.timedelta(days=1))
        result = self.login(account.member, code, now=START + dt.timedelta(days=1))
        assert result.status is LoginStatus.RECOVER
        assert (result.account_id, result.code_id) == (account.pk, provisional.pk)

    def test_the_client_address_is_throttled_across_accounts(self, settings):
        settings.PORTAIL_LOGIN_FAILURES_PER_CLIENT = 5
        for _ in range(5):
            self.login(unknown_nir(), "11112222", ip="198.51.100.7")
        retry = security.client_throttle_retry_after(ip="198.51.100.7", now=START)
        assert retry is not None and 0 < retry <= settings.PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS
        assert security.client_throttle_retry_after(ip="198.51.100.8", now=START) is None


@pytest.mark.django_db
class TestAccountCreation:
    def test_a_wrong_provisional_code_at_step_two_counts_as_a_try(self):
        member = MemberFactory()
        provisional, code = issue(member)
        wrong = f"{(int(code) + 7) % 10**8:08d}"
        arguments = {
            "member_id": member.pk,
            "code_id": provisional.pk,
            "personal_code": PERSONAL_CODE,
            "secret_question": SecretQuestion.FIRST_PET,
            "secret_answer": "Médor",
            "terms_accepted_at": START,
            "client_ip": None,
            "now": START,
        }
        for attempt in range(3):
            with pytest.raises(services.WrongProvisionalCode) as error:
                services.account_create(provisional_code=wrong, **arguments)
            assert error.value.void is (attempt == 2)
        with pytest.raises(services.WrongProvisionalCode):
            services.account_create(provisional_code=code, **arguments)
        assert not Account.objects.exists()

    def test_the_answer_is_stored_hashed_and_normalised(self):
        account = create_account(MemberFactory())
        assert "Médor" not in account.secret_answer_hash
        assert services.secret_answer_check(account=account, answer="  MEDOR ", client_ip=None, now=START)
        assert not services.secret_answer_check(account=account, answer="Rex", client_ip=None, now=START)


@pytest.mark.django_db
class TestRecovery:
    def verified_account(self):
        account = create_account(MemberFactory())
        account.email = "assure@example.org"
        account.email_verified_at = START
        account.save()
        return account

    def test_a_matching_request_sends_a_link_to_the_verified_email(self, django_capture_on_commit_callbacks):
        from portail.post.models import Email

        account = self.verified_account()
        services.recovery_email_request(
            nir=account.member.nir_parsed, birth_date=account.member.birth_date, client_ip=None
        )
        email = Email.objects.get()
        assert email.to == "assure@example.org"
        assert account.member.nir not in email.body
        token = email.body.split("/probleme-d-acces/lien/")[1].split("/")[0]
        assert services.recovery_token_account(token=token) == account

    @pytest.mark.parametrize("verified", [False, True])
    def test_a_wrong_birth_date_or_unverified_email_sends_nothing(self, verified):
        from portail.post.models import Email

        account = self.verified_account() if verified else create_account(MemberFactory())
        birth_date = account.member.birth_date + dt.timedelta(days=1 if verified else 0)
        services.recovery_email_request(nir=account.member.nir_parsed, birth_date=birth_date, client_ip=None)
        assert not Email.objects.exists()

    def test_the_link_expires_after_30_minutes_and_dies_with_the_code_change(self):
        account = self.verified_account()
        with time_machine.travel(START, tick=False):
            token = services.signing.dumps(
                {"a": account.pk, "p": account.user.password[-16:]}, salt=services.RECOVERY_TOKEN_SALT
            )
        with time_machine.travel(START + dt.timedelta(minutes=31)):
            with pytest.raises(services.InvalidLink) as error:
                services.recovery_token_account(token=token)
            assert error.value.expired
        with time_machine.travel(START + dt.timedelta(minutes=10)):
            assert services.recovery_token_account(token=token) == account
            services.personal_code_reset(account=account, new_code="59273018", client_ip=None, now=START)
            with pytest.raises(services.InvalidLink):
                services.recovery_token_account(token=token)

    def test_reset_unlocks_the_account(self):
        account = self.verified_account()
        nir = account.member.nir_parsed
        for _ in range(3):
            services.login_attempt(nir=nir, secret="11112222", client_ip=None, now=START)
        assert services.login_attempt(nir=nir, secret=PERSONAL_CODE, client_ip=None, now=START).status is (
            LoginStatus.LOCKED
        )
        services.personal_code_reset(account=account, new_code="59273018", client_ip=None, now=START)
        assert services.login_attempt(nir=nir, secret="59273018", client_ip=None, now=START).status is (
            LoginStatus.SUCCESS
        )
        kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
        assert {SecurityEventKind.PERSONAL_CODE_CHANGED, SecurityEventKind.ACCOUNT_UNLOCKED} <= kinds
