import datetime as dt
import time
from http import HTTPStatus

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from portail.accounts.enums import SecretQuestion
from portail.accounts.policy import normalise_answer, personal_code_validate
from portail.accounts.sessions.cache import SessionStore
from portail.accounts.tests.test_services import PERSONAL_CODE, create_account, issue, unknown_nir
from portail.accounts.tests.test_views import without_csrf
from portail.registry.factories import MemberFactory

BIRTH = dt.date(1985, 3, 14)
NIR = "2850369138583"


class TestDigitsPolicy:
    @pytest.mark.parametrize(
        ("code", "reason"),
        [
            ("1234567", "8 à 13 chiffres"),
            ("12345678901234", "8 à 13 chiffres"),
            ("1234 5678", "que des chiffres"),
            ("abcdefgh", "que des chiffres"),
            ("٣٤٥٦٧٨٩٠", "que des chiffres"),  # Arabic-Indic digits are not 0-9
            ("77777777", "chiffre répété"),
            ("23456789", "suite"),
            ("87654321", "suite"),
            ("89012345", "suite"),
            ("14031985", "date de naissance"),
            ("19850314", "date de naissance"),
            ("99140385", "date de naissance"),
            ("50369138", "numéro de sécurité sociale"),
            ("11" + "913858" + "22", "numéro de sécurité sociale"),
        ],
    )
    def test_trivial_codes_are_refused_with_their_reason(self, code, reason):
        with pytest.raises(ValidationError) as error:
            personal_code_validate(code, birth_date=BIRTH, nir_number=NIR)
        assert reason in " ".join(error.value.messages)

    @pytest.mark.parametrize("code", ["48207315", "9173046285", "4820731590317"])
    def test_ordinary_codes_pass(self, code):
        personal_code_validate(code, birth_date=BIRTH, nir_number=NIR)


class TestPassphrasePolicy:
    @pytest.fixture(autouse=True)
    def _passphrase(self, settings):
        settings.PORTAIL_PERSONAL_CODE_POLICY = "passphrase"

    @pytest.mark.parametrize(("code", "reason"), [("court", "8 à 64"), ("x" * 65, "8 à 64"), ("password1", "courant")])
    def test_short_long_or_common_is_refused(self, code, reason):
        with pytest.raises(ValidationError) as error:
            personal_code_validate(code)
        assert reason in " ".join(error.value.messages) or "common" in " ".join(error.value.messages).lower()

    def test_a_sentence_passes(self):
        personal_code_validate("le chat dort sur le radiateur")


class TestAnswerNormalisation:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [("Saint-Étienne", "saint etienne"), ("  MÉDOR  ", "medor"), ("l'Haÿ-les-Roses", "l hay les roses")],
    )
    def test_case_accents_spaces_and_punctuation_do_not_count(self, typed, stored):
        assert normalise_answer(typed) == stored

    @given(st.text(max_size=40))
    def test_normalising_twice_changes_nothing(self, text):
        assert normalise_answer(normalise_answer(text)) == normalise_answer(text)


@pytest.mark.django_db
class TestSessions:
    def login(self, client, member, code=PERSONAL_CODE):
        return client.post(reverse("public:member_space"), {"nir": member.nir, "code": code})

    def test_login_gives_a_new_session_id(self, client):
        account = create_account(MemberFactory())
        client.get(reverse("public:member_space"))
        client.session.save()
        before = client.session.session_key
        self.login(client, account.member)
        assert client.session.session_key != before
        assert not Session.objects.filter(session_key=before).exists()  # the pre-login session is gone

    def test_a_login_writes_its_session_once_with_everything_in_it(self, client, settings):
        settings.SESSION_ENGINE = "portail.accounts.sessions"  # the store without Redis, even when REDIS_URL is set
        account = create_account(MemberFactory())
        with CaptureQueriesContext(connection) as queries:
            assert self.login(client, account.member).status_code == HTTPStatus.FOUND
        statements = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
        assert len(statements) == 1 and statements[0].startswith("INSERT")  # no "is this key taken?" first
        data = Session.objects.get(session_key=client.cookies["sessionid"].value).get_decoded()
        assert data["_auth_user_id"] == str(account.user.pk) and "auth_at" in data
        assert client.get(reverse("accounts:home")).status_code == HTTPStatus.OK

    def test_a_login_reads_one_row_and_writes_two_then_its_session(self, client, settings):
        settings.SESSION_ENGINE = "portail.accounts.sessions"  # the store without Redis, even when REDIS_URL is set
        account = create_account(MemberFactory())
        client.get(reverse("public:member_space"))  # the maintenance lookup, once per process and test
        with CaptureQueriesContext(connection) as queries:
            assert self.login(client, account.member).status_code == HTTPStatus.FOUND
        statements = [" ".join(q["sql"].split()[:3]).replace('"', "") for q in queries.captured_queries]
        # The account with its user and member, the security event, last_login: no transaction around them
        # (nor around the hash between the first two). Then the session, in its own (a savepoint in a test).
        assert [statement.split()[0] for statement in statements] == [
            "SELECT",
            "INSERT",
            "UPDATE",
            "SAVEPOINT",
            "INSERT",
            "RELEASE",
        ], statements
        assert statements[1] == "INSERT INTO accounts_securityevent" and statements[2] == "UPDATE accounts_user SET"
        assert statements[4] == "INSERT INTO django_session"

    def test_in_the_cache_too_a_login_stores_its_session_once(self, client, settings, monkeypatch):
        # The store used with Redis; it works on any cache, here the suite's.
        settings.SESSION_ENGINE = "portail.accounts.sessions.cache"
        account = create_account(MemberFactory())
        client.get(reverse("public:member_space"))
        client.session.save()
        before = client.session.session_key
        store, calls = caches[settings.SESSION_CACHE_ALIAS], []

        def spy(name, original):
            def call(key, *args, **kwargs):
                if "sessions" in key:
                    calls.append((name, key))
                return original(key, *args, **kwargs)

            return call

        for name in ("add", "set", "get", "has_key", "delete"):
            monkeypatch.setattr(store, name, spy(name, getattr(store, name)))
        assert self.login(client, account.member).status_code == HTTPStatus.FOUND
        after = client.cookies["sessionid"].value
        # Read the visitor's session, drop it (fixation), store the new one once: no empty write, no lookup.
        assert [name for name, _ in calls] == ["get", "delete", "add"]
        assert before in calls[1][1] and after in calls[2][1] and after != before
        monkeypatch.undo()
        data = SessionStore(after).load()
        assert data["_auth_user_id"] == str(account.user.pk) and "auth_at" in data
        assert SessionStore(before).load() == {}
        assert client.get(reverse("accounts:home")).status_code == HTTPStatus.OK

    def test_idle_session_ends_after_20_minutes(self, client):
        account = create_account(MemberFactory())
        with time_machine.travel(time.time(), tick=False) as traveller:
            self.login(client, account.member)
            traveller.shift(dt.timedelta(minutes=19))
            assert client.get(reverse("accounts:home")).status_code == HTTPStatus.OK
            traveller.shift(dt.timedelta(minutes=19))
            assert client.get(reverse("accounts:home")).status_code == HTTPStatus.OK
            traveller.shift(dt.timedelta(minutes=21))
            response = client.get(reverse("accounts:home"), follow=True)
            assert response.redirect_chain[0][0] == reverse("public:member_space")
            assert "sans activité" in response.content.decode()

    def test_a_session_lasts_8_hours_at_most_even_when_busy(self, client):
        account = create_account(MemberFactory())
        with time_machine.travel(time.time(), tick=False) as traveller:
            self.login(client, account.member)
            for _ in range(8 * 4 + 1):
                traveller.shift(dt.timedelta(minutes=15))
                status = client.get(reverse("accounts:home")).status_code
            assert status == HTTPStatus.FOUND

    def test_logout_ends_the_session_on_the_server(self, client):
        from django.contrib.sessions.models import Session

        account = create_account(MemberFactory())
        self.login(client, account.member)
        key = client.session.session_key
        client.post(reverse("accounts:logout"))
        assert not Session.objects.filter(session_key=key).exists()

    @pytest.mark.parametrize("demo", [True, False])
    def test_cookies_are_httponly_samesite_and_secure_outside_demo(self, settings, demo):
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = not demo
        settings.SECURE_SSL_REDIRECT = False
        account = create_account(MemberFactory())
        response = self.login(Client(), account.member)
        cookie = response.cookies["sessionid"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert bool(cookie["secure"]) is (not demo)

    def test_secure_cookies_follow_demo_mode_in_settings(self):
        import os
        import subprocess
        import sys

        script = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
        env = {**os.environ, "PORTAIL_DEMO": "0", "DJANGO_SETTINGS_MODULE": "portail.settings"}
        output = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert output == "True True"


@pytest.mark.django_db
class TestThrottleView:
    def test_too_many_failures_from_one_address_answer_429_with_retry_after(self, client, settings):
        settings.PORTAIL_LOGIN_FAILURES_PER_CLIENT = 4
        for _ in range(4):
            client.post(reverse("public:member_space"), {"nir": unknown_nir().number, "code": "11112222"})
        response = client.post(reverse("public:member_space"), {"nir": unknown_nir().number, "code": "11112222"})
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert 0 < int(response["Retry-After"]) <= settings.PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS
        assert "suspendus jusqu'à" in response.content.decode()


@pytest.mark.django_db
class TestRecoveryByPost:
    def test_provisional_code_on_an_account_then_answer_then_new_code(self, client):
        account = create_account(MemberFactory())
        provisional, code = issue(account.member, now=dt.datetime.now(dt.UTC))
        response = client.post(reverse("public:member_space"), {"nir": account.member.nir, "code": code})
        assert response["Location"] == reverse("accounts:recovery_question")
        page = client.get(response["Location"]).content.decode()
        assert str(SecretQuestion.FIRST_PET.label) in page
        # The answer alone does not skip the code: without this session, the page sends back.
        assert Client().get(reverse("accounts:recovery_new_code")).status_code == HTTPStatus.FOUND
        wrong = client.post(reverse("accounts:recovery_question"), {"answer": "Rex"})
        assert "pas la réponse enregistrée" in wrong.content.decode()
        client.post(reverse("accounts:recovery_question"), {"answer": "medor"})
        response = client.post(
            reverse("accounts:recovery_new_code"),
            {"personal_code": "59273018", "personal_code_confirm": "59273018"},
        )
        assert response["Location"] == reverse("accounts:home")
        provisional.refresh_from_db()
        assert provisional.status == "used"
        fresh = Client()
        assert fresh.post(reverse("public:member_space"), {"nir": account.member.nir, "code": "59273018"})[
            "Location"
        ] == reverse("accounts:home")

    def test_three_wrong_answers_lock_the_account(self, client):
        account = create_account(MemberFactory())
        _, code = issue(account.member, now=dt.datetime.now(dt.UTC))
        client.post(reverse("public:member_space"), {"nir": account.member.nir, "code": code})
        for _ in range(3):
            response = client.post(reverse("accounts:recovery_question"), {"answer": "Rex"})
        assert "Compte bloqué temporairement" in response.content.decode()


@pytest.mark.django_db
class TestRecoveryByEmailView:
    def test_the_screen_is_the_same_whether_or_not_anything_matched(self, client):
        account = create_account(MemberFactory())
        account.email, account.email_verified_at = "a@example.org", dt.datetime.now(dt.UTC)
        account.save()
        data = {"nir": account.member.nir, "birth_date": account.member.birth_date.strftime("%d/%m/%Y")}
        known = client.post(reverse("accounts:recovery_request"), data, follow=True)
        stranger = {**data, "nir": unknown_nir().number}
        unknown = Client().post(reverse("accounts:recovery_request"), stranger, follow=True)
        assert without_csrf(known) == without_csrf(unknown)


@pytest.mark.django_db
class TestTermsRefused:
    def test_refusing_ends_politely_and_creates_nothing(self, client):
        from portail.accounts.models import Account

        member = MemberFactory()
        _, code = issue(member, now=dt.datetime.now(dt.UTC))
        client.post(reverse("public:member_space"), {"nir": member.nir, "code": code})
        page = client.post(reverse("accounts:enrol_terms"), {"decision": "refuse"}).content.decode()
        assert "Aucun compte n'a été créé" in page and "reste valable jusqu'au" in page
        assert not Account.objects.exists()
        assert client.get(reverse("accounts:enrol_codes"))["Location"] == reverse("public:member_space")
