import logging
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from portail.accounts.enums import SecretQuestion, SecurityEventKind
from portail.accounts.models import Account, SecurityEvent, User
from portail.accounts.tests.test_services import PERSONAL_CODE, create_account, issue, unknown_nir
from portail.post.models import Email, Letter
from portail.registry.factories import MemberFactory

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def without_csrf(response) -> str:
    return CSRF_INPUT.sub("", response.content.decode())


def identity(member):
    return {
        "last_name": member.last_name,
        "birth_date": member.birth_date.strftime("%d/%m/%Y"),
        "postal_code": member.postal_code,
    }


def order_code(client, member, nir=None):
    client.post(reverse("accounts:code_order"), {"nir": nir or member.nir})
    return client.post(reverse("accounts:code_order_identity"), identity(member), follow=True)


def enrol(client, member, code, email="assure@example.org"):
    """Walk the account-creation wizard; returns the last response."""
    client.post(reverse("public:member_space"), {"nir": member.nir, "code": code})
    client.post(reverse("accounts:enrol_terms"), {"decision": "accept"})
    client.post(
        reverse("accounts:enrol_codes"),
        {
            "provisional_code": code,
            "personal_code": PERSONAL_CODE,
            "personal_code_confirm": PERSONAL_CODE,
            "secret_question": SecretQuestion.FIRST_PET,
            "secret_answer": "Médor",
            "secret_answer_confirm": "medor",
        },
    )
    return client.post(reverse("accounts:enrol_email"), {"email": email}, follow=True)


@pytest.mark.django_db
class TestNoEnumeration:
    def test_code_order_answers_the_same_for_a_member_and_a_stranger(self, client):
        member = MemberFactory()
        stranger = MemberFactory.build(nir=unknown_nir().number)
        known = order_code(client, member)
        unknown = order_code(Client(), stranger)
        assert known.status_code == unknown.status_code == HTTPStatus.OK
        assert without_csrf(known) == without_csrf(unknown)
        assert "7 à 12 jours" in known.content.decode()

    def test_login_answers_the_same_for_a_wrong_code_and_an_unknown_nir(self, client):
        member = MemberFactory()
        issue(member)
        known = client.post(reverse("public:member_space"), {"nir": member.nir, "code": "11112222"})
        unknown = Client().post(reverse("public:member_space"), {"nir": unknown_nir().number, "code": "11112222"})
        assert known.status_code == unknown.status_code == HTTPStatus.OK
        body_known, body_unknown = without_csrf(known), without_csrf(unknown)
        # The typed NIR is echoed back in its field: blank it before comparing.
        body_known = body_known.replace(member.nir, "NIR")
        body_unknown = re.sub(r'name="nir"[^>]*value="[^"]*"', 'name="nir" value="NIR"', body_unknown)
        body_known = re.sub(r'name="nir"[^>]*value="[^"]*"', 'name="nir" value="NIR"', body_known)
        assert body_known == body_unknown
        assert "incorrect" in body_known

    def test_the_tries_left_are_counted_in_words(self, client):
        member = MemberFactory()
        pages = [
            client.post(reverse("public:member_space"), {"nir": member.nir, "code": "11112222"}).content.decode()
            for _ in range(2)
        ]
        assert "encore 2 essais avant le blocage temporaire." in pages[0]
        assert "encore 1 essai avant le blocage temporaire." in pages[1]


@pytest.mark.django_db
class TestCsrf:
    @pytest.mark.parametrize(
        "name",
        [
            "public:member_space",
            "accounts:code_order",
            "accounts:code_order_identity",
            "accounts:enrol_terms",
            "accounts:enrol_codes",
            "accounts:recovery_request",
            "accounts:recovery_question",
            "accounts:recovery_new_code",
            "accounts:logout",
            "accounts:email_resend",
            "set_language",
        ],
    )
    def test_every_post_needs_its_token(self, name):
        client = Client(enforce_csrf_checks=True)
        response = client.post(reverse(name), {"nir": "1", "code": "1"})
        assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.django_db(transaction=True)
class TestJourney:
    def test_order_enrol_verify_logout_login_lock_without_leaking_secrets(self, client, caplog):
        caplog.set_level(logging.DEBUG)
        member = MemberFactory()
        response = order_code(client, member)
        assert response.status_code == HTTPStatus.OK
        letter = Letter.objects.get(member=member)
        # The render task ran on commit: the code is only in the PDF now.
        assert letter.secret_context == {}
        text = PdfReader(letter.pdf_file).pages[0].extract_text()
        code = re.search(r"\b(\d{4}) ?(\d{4})\b", text.split("code", 1)[1]).group(0).replace(" ", "")

        response = enrol(client, member, code)
        assert response.status_code == HTTPStatus.OK
        assert "assure@example.org" in response.content.decode()
        account = Account.objects.get(member=member)
        assert not account.email_verified

        email = Email.objects.get(to="assure@example.org")
        link = re.search(r"https?://\S+/mon-compte/e-mail/confirmer/\S+/", email.body).group(0)
        path = "/" + link.split("/", 3)[3]
        assert "confirmée" in client.get(path).content.decode()
        account.refresh_from_db()
        assert account.email_verified

        client.post(reverse("accounts:logout"))
        assert client.get(reverse("accounts:home")).status_code == HTTPStatus.FOUND
        response = client.post(reverse("public:member_space"), {"nir": member.nir, "code": PERSONAL_CODE})
        assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("accounts:home")
        client.post(reverse("accounts:logout"))

        for _ in range(3):
            response = client.post(reverse("public:member_space"), {"nir": member.nir, "code": "11112222"})
        page = response.content.decode()
        assert "bloqué jusqu'au" in page
        assert reverse("accounts:recovery_request") in page and reverse("accounts:code_order") in page

        secrets = [member.nir, code, PERSONAL_CODE, "Médor", "medor"]
        for record in caplog.records:
            message = record.getMessage()
            for secret in secrets:
                assert secret not in message, f"{secret!r} leaked in log: {message}"
        for sent in Email.objects.all():
            for secret in secrets[:3]:
                assert secret not in sent.body and secret not in sent.subject

    def test_no_transaction_is_open_while_the_code_is_hashed(self, client, monkeypatch):
        # A login's Argon2id takes tens of milliseconds: a transaction open meanwhile would hold a database
        # connection (a PgBouncer server connection in transaction mode) for nothing. The wrong-code path
        # still runs in one (it locks the provisional code and counts the failure).
        account, seen = create_account(MemberFactory()), []

        real_check_password = User.check_password

        def check_password(user, secret):
            seen.append(connection.in_atomic_block)
            return real_check_password(user, secret)

        monkeypatch.setattr(User, "check_password", check_password)
        response = client.post(reverse("public:member_space"), {"nir": account.member.nir, "code": PERSONAL_CODE})
        assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("accounts:home")
        assert seen == [False]
        assert SecurityEvent.objects.filter(member=account.member, kind=SecurityEventKind.LOGIN_SUCCEEDED).exists()
