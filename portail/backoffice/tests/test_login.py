import datetime as dt
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.backoffice.enums import AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.services import agent_create
from portail.backoffice.testing import AGENT_PASSWORD, agent_make, token_for
from portail.backoffice.tests.conftest import account_make
from portail.registry.factories import MemberFactory

LOGIN = "backoffice:login"
NEW_PASSWORD = "une phrase de passe bien longue 2025"


def password_step(client, username, password=AGENT_PASSWORD, **query):
    url = reverse(LOGIN) + (f"?next={query['next']}" if "next" in query else "")
    return client.post(url, {"username": username, "password": password})


def dashboard_status(client):
    return client.get(reverse("backoffice:dashboard")).status_code


@pytest.mark.django_db
class TestLogin:
    def test_password_then_token(self, client):
        user = agent_make(role=AgentRole.AGENT)
        response = password_step(client, user.username)
        assert response["Location"] == reverse("backoffice:login_token")
        assert dashboard_status(client) == HTTPStatus.FOUND  # not logged in after the password alone
        device = TOTPDevice.objects.get(user=user)
        response = client.post(reverse("backoffice:login_token"), {"token": token_for(device)})
        assert response["Location"] == reverse("backoffice:dashboard")
        assert dashboard_status(client) == HTTPStatus.OK
        assert AgentAccess.objects.filter(agent=user, action=AgentAction.LOGIN).count() == 1

    def test_next_is_followed_when_it_is_local(self, client):
        user = agent_make(role=AgentRole.SUPERVISOR)
        password_step(client, user.username, next="/agents/courriers/")
        response = client.post(
            reverse("backoffice:login_token"), {"token": token_for(TOTPDevice.objects.get(user=user))}
        )
        assert response["Location"] == "/agents/courriers/"

    def test_wrong_token_is_refused(self, client):
        user = agent_make(role=AgentRole.AGENT)
        password_step(client, user.username)
        good = token_for(TOTPDevice.objects.get(user=user))
        wrong = f"{(int(good) + 1) % 1_000_000:06d}"
        response = client.post(reverse("backoffice:login_token"), {"token": wrong})
        assert response.status_code == HTTPStatus.OK
        assert "pas le bon" in response.content.decode()
        assert dashboard_status(client) == HTTPStatus.FOUND

    @pytest.mark.parametrize("token", ["", "12345", "abcdef", "1234567"])
    def test_malformed_tokens_are_explained(self, client, token):
        user = agent_make(role=AgentRole.AGENT)
        password_step(client, user.username)
        response = client.post(reverse("backoffice:login_token"), {"token": token})
        assert 'aria-invalid="true"' in response.content.decode()

    @pytest.mark.parametrize("case", ["wrong password", "unknown username", "member", "no role"])
    def test_one_generic_error(self, client, case):
        user = agent_make(role=None if case == "no role" else AgentRole.AGENT)
        username, password = user.username, AGENT_PASSWORD
        if case == "wrong password":
            password = "not-the-password-at-all"
        elif case == "unknown username":
            username = "nobody-here"
        elif case == "member":
            member_account = account_make(MemberFactory())
            username, password = member_account.user.username, "73915824"
        response = password_step(client, username, password)
        assert response.status_code == HTTPStatus.OK
        assert "Identifiant ou mot de passe incorrect." in response.content.decode()
        assert "backoffice_login" not in client.session

    def test_failures_lock_the_username(self, client, settings):
        user = agent_make(role=AgentRole.AGENT)
        for _ in range(settings.PORTAIL_LOGIN_MAX_FAILURES):
            password_step(client, user.username, "wrong-password-again")
        response = password_step(client, user.username)  # the right password, too late
        assert "essais erronés" in response.content.decode()
        assert "backoffice_login" not in client.session

    @pytest.mark.parametrize(("into_the_window", "says"), [(60, "14 minutes."), (14 * 60 + 10, "1 minute.")])
    def test_a_throttled_address_is_told_when_to_come_back(self, client, settings, into_the_window, says):
        settings.PORTAIL_LOGIN_FAILURES_PER_CLIENT = 2
        window_start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a multiple of the 15-minute window
        with time_machine.travel(window_start + dt.timedelta(seconds=into_the_window), tick=False):
            for _ in range(2):
                password_step(client, "personne", "wrong-password-again")
            response = password_step(client, agent_make(role=AgentRole.AGENT).username)
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert f"réessayez dans {says}" in response.content.decode()

    def test_wrong_tokens_count_toward_the_lock(self, client, settings):
        user = agent_make(role=AgentRole.AGENT)
        password_step(client, user.username)
        for _ in range(settings.PORTAIL_LOGIN_MAX_FAILURES):
            response = client.post(reverse("backoffice:login_token"), {"token": "000000"})
        assert response["Location"] == reverse(LOGIN)
        assert "essais erronés" in client.get(reverse(LOGIN)).content.decode()

    def test_the_token_step_expires(self, client, settings):
        user = agent_make(role=AgentRole.AGENT)
        password_step(client, user.username)
        with time_machine.travel(dt.timedelta(seconds=settings.PORTAIL_AGENT_LOGIN_STEP_SECONDS + 5)):
            response = client.post(reverse("backoffice:login_token"), {"token": "123456"})
        assert response["Location"] == reverse(LOGIN)

    def test_token_step_needs_the_password_step(self, client):
        assert client.get(reverse("backoffice:login_token"))["Location"] == reverse(LOGIN)
        assert client.get(reverse("backoffice:login_enrol"))["Location"] == reverse(LOGIN)
        assert client.get(reverse("backoffice:login_password"))["Location"] == reverse(LOGIN)

    def test_logout_is_audited(self, client):
        user = agent_make(role=AgentRole.AGENT)
        password_step(client, user.username)
        client.post(reverse("backoffice:login_token"), {"token": token_for(TOTPDevice.objects.get(user=user))})
        response = client.post(reverse("backoffice:logout"))
        assert response["Location"] == reverse(LOGIN)
        assert AgentAccess.objects.filter(agent=user, action=AgentAction.LOGOUT).count() == 1
        assert dashboard_status(client) == HTTPStatus.FOUND


@pytest.mark.django_db
class TestEnrolment:
    def test_first_login_enrols_totp_then_asks_for_a_password(self, client):
        created = agent_create(username="nouvel.agent", role=AgentRole.AGENT)
        response = password_step(client, "nouvel.agent", created.password)
        assert client.get(response["Location"])["Location"] == reverse("backoffice:login_enrol")

        page = client.get(reverse("backoffice:login_enrol"))
        body = page.content.decode()
        assert "<svg" in body and 'role="img"' in body
        device = TOTPDevice.objects.get(user=created.user, confirmed=False)
        assert device.key not in body  # the hex key never; the base32 secret, grouped, yes
        assert page["Cache-Control"].startswith("max-age=0")

        response = client.post(reverse("backoffice:login_enrol"), {"token": "000000"})
        assert response.status_code == HTTPStatus.OK
        with time_machine.travel(dt.timedelta(seconds=5)):  # django-otp throttles after a wrong token
            device.refresh_from_db()
            response = client.post(reverse("backoffice:login_enrol"), {"token": token_for(device)})
        assert response["Location"] == reverse("backoffice:login_password")
        device.refresh_from_db()
        assert device.confirmed
        assert dashboard_status(client) == HTTPStatus.FOUND  # not before a password of their own

        weak = client.post(reverse("backoffice:login_password"), {"password": "123", "password_confirm": "123"})
        assert weak.status_code == HTTPStatus.OK
        response = client.post(
            reverse("backoffice:login_password"), {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert response["Location"] == reverse("backoffice:dashboard")
        assert dashboard_status(client) == HTTPStatus.OK
        created.user.refresh_from_db()
        assert created.user.check_password(NEW_PASSWORD)
        assert created.user.last_login is not None

    def test_the_second_login_asks_for_the_token_only(self, client):
        created = agent_create(username="deuxieme", role=AgentRole.AGENT)
        user = created.user
        user.set_password(NEW_PASSWORD)
        user.last_login = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        user.save()
        TOTPDevice.objects.create(user=user, name="x", confirmed=True)
        response = password_step(client, "deuxieme", NEW_PASSWORD)
        assert response["Location"] == reverse("backoffice:login_token")
        assert client.get(reverse("backoffice:login_enrol"))["Location"] == reverse("backoffice:login_token")
