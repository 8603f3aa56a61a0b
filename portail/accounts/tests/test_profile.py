import datetime as dt
import time
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portail.accounts.enums import AccountStatus, SecretQuestion, SecurityEventKind
from portail.accounts.models import SecurityEvent
from portail.accounts.tests.test_services import PERSONAL_CODE, create_account, issue
from portail.post.enums import LetterKind
from portail.post.models import Email, Letter
from portail.registry.factories import MemberFactory


def logged_in(client, *, verified_email="assure@example.org"):
    account = create_account(MemberFactory())
    if verified_email:
        account.email, account.email_verified_at = verified_email, dt.datetime.now(dt.UTC)
        account.save()
    client.post(reverse("public:member_space"), {"nir": account.member.nir, "code": PERSONAL_CODE})
    return account


@pytest.mark.django_db
class TestRecentLogin:
    def test_a_fresh_login_changes_the_question_without_the_code(self, client):
        account = logged_in(client)
        form = client.get(reverse("accounts:question_change")).content.decode()
        assert 'name="current_code"' not in form
        response = client.post(
            reverse("accounts:question_change"),
            {
                "secret_question": SecretQuestion.CHILDHOOD_STREET,
                "secret_answer": "Rue Haute",
                "secret_answer_confirm": "rue haute",
            },
        )
        assert response["Location"] == reverse("accounts:profile")
        account.refresh_from_db()
        assert account.secret_question == SecretQuestion.CHILDHOOD_STREET
        notice = Email.objects.get(subject__contains="question secrète")
        assert "Rue Haute" not in notice.body and "rue haute" not in notice.body

    def test_an_older_login_needs_the_code_again(self, client):
        with time_machine.travel(time.time(), tick=False) as traveller:
            account = logged_in(client)
            traveller.shift(dt.timedelta(minutes=6))
            form = client.get(reverse("accounts:email_change")).content.decode()
            assert 'name="current_code"' in form
            wrong = client.post(
                reverse("accounts:email_change"), {"current_code": "90817263", "email": "n@example.org"}
            )
            assert "pas votre code personnel actuel." in wrong.content.decode()
            right = client.post(
                reverse("accounts:email_change"), {"current_code": PERSONAL_CODE, "email": "n@example.org"}
            )
            assert right["Location"] == reverse("accounts:email_sent")
        account.refresh_from_db()
        assert account.email == "n@example.org" and not account.email_verified
        old_notice = Email.objects.get(to="assure@example.org")
        assert "n@example.org" in old_notice.body
        assert Email.objects.filter(to="n@example.org", body__contains="/mon-compte/e-mail/confirmer/").exists()

    def test_three_wrong_codes_during_a_change_lock_and_log_out(self, client):
        with time_machine.travel(time.time(), tick=False) as traveller:
            logged_in(client)
            traveller.shift(dt.timedelta(minutes=6))
            for _ in range(3):
                response = client.post(
                    reverse("accounts:code_change"),
                    {"current_code": "90817263", "personal_code": "59273018", "personal_code_confirm": "59273018"},
                )
            assert response["Location"] == reverse("public:member_space")
            assert client.get(reverse("accounts:home")).status_code == HTTPStatus.FOUND


@pytest.mark.django_db
class TestPersonalCodeChange:
    def test_the_current_code_is_always_required(self, client):
        account = logged_in(client)
        response = client.post(
            reverse("accounts:code_change"),
            {"current_code": PERSONAL_CODE, "personal_code": "59273018", "personal_code_confirm": "59273018"},
        )
        assert response["Location"] == reverse("accounts:profile")
        assert client.get(reverse("accounts:home")).status_code == HTTPStatus.OK  # still logged in
        account.user.refresh_from_db()
        assert account.user.check_password("59273018")
        notice = Email.objects.get(subject__contains="code personnel")
        assert "59273018" not in notice.body and PERSONAL_CODE not in notice.body
        assert SecurityEvent.objects.filter(kind=SecurityEventKind.PERSONAL_CODE_CHANGED).exists()


@pytest.mark.django_db
class TestTermination:
    def test_explained_confirmed_closed_logged_out_and_confirmed_by_post_and_email(
        self, client, django_capture_on_commit_callbacks
    ):
        account = logged_in(client)
        other_device = Client()
        other_device.post(reverse("public:member_space"), {"nir": account.member.nir, "code": PERSONAL_CODE})
        page = client.get(reverse("accounts:terminate")).content.decode()
        assert "de nouveau envoyés par courrier" in page
        wrong = client.post(reverse("accounts:terminate"), {"current_code": "90817263"})
        assert "pas votre code personnel actuel." in wrong.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:terminate"), {"current_code": PERSONAL_CODE}, follow=True)
        assert "Votre compte est résilié" in response.content.decode()
        account.refresh_from_db()
        assert account.status == AccountStatus.TERMINATED and account.terminated_at is not None
        # Every session ends, on this device and the others.
        assert client.get(reverse("accounts:home")).status_code == HTTPStatus.FOUND
        assert other_device.get(reverse("accounts:home")).status_code == HTTPStatus.FOUND
        letter = Letter.objects.get(member=account.member, kind=LetterKind.ACCOUNT_TERMINATED)
        assert letter.status == "rendered"
        assert Email.objects.filter(to="assure@example.org", subject__contains="résilié").exists()
        # The old code no longer logs in.
        login = Client().post(reverse("public:member_space"), {"nir": account.member.nir, "code": PERSONAL_CODE})
        assert "incorrect" in login.content.decode()

    def test_the_member_can_enrol_again_with_a_new_provisional_code(self, client):
        account = logged_in(client)
        client.post(reverse("accounts:terminate"), {"current_code": PERSONAL_CODE})
        _, code = issue(account.member, now=dt.datetime.now(dt.UTC))
        response = Client().post(reverse("public:member_space"), {"nir": account.member.nir, "code": code})
        assert response["Location"] == reverse("accounts:enrol_terms")
