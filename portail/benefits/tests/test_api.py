import hashlib
import json
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portail.benefits.feed import feed_source_create, feed_source_revoke
from portail.benefits.models import FeedSource, Payment, PaymentImportRun
from portail.benefits.tests.test_feed import NIR, act, dumps, payment
from portail.registry.factories import MemberFactory

URL = "/api/paiements/"


@pytest.fixture
def member(db):
    return MemberFactory(nir=NIR.number)


@pytest.fixture
def token(db):
    _source, token = feed_source_create(name="systeme-remboursements")
    return token


def push(client, body, *, token=None, content_type="application/json", **extra):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, headers=headers, **extra)


@pytest.mark.django_db
class TestPushAccepted:
    def test_url_name(self):
        assert reverse("benefits_api:push") == URL

    def test_one_payment(self, client, member, token):
        response = push(client, payment(), token=token)
        assert response.status_code == HTTPStatus.ACCEPTED
        assert response.json() == {"created": 1, "already_known": 0, "rejected": [], "rejected_count": 0}
        (pushed,) = Payment.objects.for_member(member)
        assert (pushed.external_id, pushed.lines.count()) == ("PAY-1", 1)
        assert PaymentImportRun.objects.get().source == "api:systeme-remboursements"

    def test_pretty_printed_payment(self, client, member, token):
        response = push(client, json.dumps(payment(), indent=2), token=token)
        assert response.status_code == HTTPStatus.ACCEPTED
        assert response.json()["created"] == 1

    @pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/json", "application/jsonl"])
    def test_json_lines(self, client, member, token, content_type):
        body = "\n".join([dumps(payment(id="A")), dumps(payment(id="B", payee="x")), "", dumps(payment(id="C"))])
        response = push(client, body + "\n", token=token, content_type=content_type)
        assert response.status_code == HTTPStatus.ACCEPTED
        assert response.json() == {
            "created": 2,
            "already_known": 0,
            "rejected": [
                {"line": 2, "reason": "ligne 2 : versé à « x » invalide, valeurs possibles : member, professional"}
            ],
            "rejected_count": 1,
        }
        assert sorted(Payment.objects.for_member(member).values_list("external_id", flat=True)) == ["A", "C"]

    def test_idempotent(self, client, member, token):
        first = push(client, payment(), token=token)
        second = push(client, payment(), token=token)
        assert (first.json()["created"], second.json()["created"], second.json()["already_known"]) == (1, 0, 1)
        assert Payment.objects.count() == 1

    def test_every_line_rejected_is_still_processed(self, client, db, token):
        response = push(client, payment(), token=token)  # no such member
        assert response.status_code == HTTPStatus.ACCEPTED
        body = response.json()
        assert (body["created"], body["rejected_count"]) == (0, 1)
        assert NIR.number not in body["rejected"][0]["reason"]

    def test_no_csrf_token_needed(self, member, token):
        response = push(Client(enforce_csrf_checks=True), payment(), token=token)
        assert response.status_code == HTTPStatus.ACCEPTED

    def test_a_logged_in_agent_cookie_is_not_needed_nor_used(self, client, member, token, admin_user):
        client.force_login(admin_user)
        assert push(client, payment(), token=None).status_code == HTTPStatus.UNAUTHORIZED

    def test_a_pushed_payment_is_on_the_members_payments_at_once(self, client, member, token):
        assert not Payment.objects.for_member(member).exists()
        push(client, payment(lines=[act(), act(nature="pharmacy", flat_fee="0")], amount="40.00"), token=token)
        assert Payment.objects.for_member(member).with_lines().get().lines.count() == 2


@pytest.mark.django_db
class TestPushRefused:
    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer", "Bearer unknown-token", "Basic dXNlcjpwYXNz", "revoked", "Token {token}", "{token}"],
    )
    def test_unauthorized(self, client, member, token, authorization):
        if authorization == "revoked":
            feed_source_revoke(source=FeedSource.objects.get())
            authorization = f"Bearer {token}"
        headers = {"Authorization": authorization.format(token=token)} if authorization else {}
        response = client.post(URL, data=dumps(payment()), content_type="application/json", headers=headers)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response["WWW-Authenticate"] == "Bearer"
        assert response.json() == {
            "error": "Jeton d'accès absent, inconnu ou révoqué : envoyez l'en-tête « Authorization: Bearer <jeton> »."
        }
        assert not Payment.objects.exists()

    def test_missing_unknown_and_revoked_tokens_get_the_same_answer(self, client, member, token):
        missing = client.post(URL, data=dumps(payment()), content_type="application/json")
        unknown = push(client, payment(), token="x" * 43)
        feed_source_revoke(source=FeedSource.objects.get())
        revoked = push(client, payment(), token=token)
        answers = {(r.status_code, r.content, r["WWW-Authenticate"]) for r in (missing, unknown, revoked)}
        assert len(answers) == 1

    def test_the_token_scheme_is_case_insensitive(self, client, member, token):
        response = client.post(
            URL, data=dumps(payment()), content_type="application/json", headers={"Authorization": f"bearer {token}"}
        )
        assert response.status_code == HTTPStatus.ACCEPTED

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("", "Le corps de la requête n'est pas du JSON"),
            ("  \n", "Le corps de la requête n'est pas du JSON"),
            ("pas du JSON", "Le corps de la requête n'est pas du JSON"),
            ("{\n", "Le corps de la requête n'est pas du JSON"),
            ("[1, 2]", "Le corps de la requête n'est pas du JSON"),
            ("42", "Le corps de la requête n'est pas du JSON"),
            (b"\xff\xfe{}", "Le corps de la requête n'est pas en UTF-8."),
        ],
    )
    def test_not_json(self, client, member, token, body, message):
        response = push(client, body, token=token)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["error"].startswith(message)
        assert not PaymentImportRun.objects.exists()

    def test_too_large(self, client, member, token, settings):
        settings.PORTAIL_FEED_MAX_BODY_BYTES = 1000
        body = dumps(payment())
        assert push(client, body, token=token).status_code == HTTPStatus.ACCEPTED
        response = push(client, body + " " * (1001 - len(body.encode())), token=token)
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert response.json()["error"].startswith("Requête trop grande : 1000 octets au plus.")

    def test_default_limit_is_5_mb(self, client, member, token):
        body = dumps(payment()) + "\n"
        body += " " * (5 * 1024 * 1024 - len(body))
        assert push(client, body, token=token).status_code == HTTPStatus.ACCEPTED
        response = push(client, body + " ", token=token)
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE

    def test_a_lying_content_length_is_not_trusted(self, client, member, token, settings):
        settings.PORTAIL_FEED_MAX_BODY_BYTES = 1000
        response = push(client, dumps(payment()) + " " * 1200, token=token, CONTENT_LENGTH="100")
        # The stream is read up to the declared length only (WSGI): what is read is what counts.
        assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        assert not Payment.objects.exists()

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
    )
    def test_other_content_types(self, client, member, token, content_type):
        response = push(client, dumps(payment()), token=token, content_type=content_type)
        assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
        assert not Payment.objects.exists()

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head"])
    def test_other_methods(self, client, token, method):
        response = getattr(client, method)(URL, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert response["Allow"] == "POST"


@pytest.mark.django_db
class TestFeedTokenCommand:
    def test_create_prints_the_token_once_and_stores_its_digest(self, capsys):
        call_command("feed_token", "create", "systeme-remboursements")
        out, err = capsys.readouterr()
        token = out.strip()
        assert len(token) == 43
        assert "il ne sera plus jamais affiché" in err
        source = FeedSource.objects.get()
        assert (source.name, source.revoked_at) == ("systeme-remboursements", None)
        assert source.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in source.token_hash

    def test_created_token_is_accepted(self, client, member, capsys):
        call_command("feed_token", "create", "systeme-remboursements")
        token = capsys.readouterr().out.strip()
        assert push(client, payment(), token=token).status_code == HTTPStatus.ACCEPTED

    def test_two_tokens_differ(self, capsys):
        call_command("feed_token", "create", "a")
        call_command("feed_token", "create", "b")
        first, second = capsys.readouterr().out.split()
        assert first != second

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101])
    def test_invalid_name(self, name):
        with pytest.raises(CommandError, match="Nom invalide"):
            call_command("feed_token", "create", name)

    def test_create_an_existing_name_fails(self, token):
        with pytest.raises(CommandError, match="existe déjà"):
            call_command("feed_token", "create", "systeme-remboursements")

    def test_revoke(self, client, member, token, capsys):
        call_command("feed_token", "revoke", "systeme-remboursements")
        assert "révoqué" in capsys.readouterr().out
        assert FeedSource.objects.get().revoked_at is not None
        assert push(client, payment(), token=token).status_code == HTTPStatus.UNAUTHORIZED
        call_command("feed_token", "revoke", "systeme-remboursements")
        assert "était déjà révoqué" in capsys.readouterr().out

    def test_revoke_an_unknown_name_fails(self, db):
        with pytest.raises(CommandError, match="Aucun système émetteur"):
            call_command("feed_token", "revoke", "inconnu")

    def test_list_shows_no_secret(self, token, capsys):
        revoked, _token = feed_source_create(name="ancien-systeme")
        feed_source_revoke(source=revoked, now=timezone.now())
        call_command("feed_token", "list")
        out = capsys.readouterr().out
        lines = out.strip().splitlines()
        assert lines[0].startswith("ancien-systeme — créé le ") and " — révoqué le " in lines[0]
        assert lines[1].startswith("systeme-remboursements — créé le ") and lines[1].endswith(" — actif")
        for source in FeedSource.objects.all():
            assert source.token_hash not in out
        assert token not in out

    def test_list_when_empty(self, db, capsys):
        call_command("feed_token", "list")
        assert capsys.readouterr().out.strip() == "Aucun système émetteur."


@pytest.mark.django_db
class TestAdmin:
    def test_adding_a_source_shows_its_token_once(self, admin_client, member):
        response = admin_client.post(reverse("admin:benefits_feedsource_add"), {"name": "nouveau-systeme"})
        assert response.status_code == HTTPStatus.OK
        assert "no-store" in response["Cache-Control"]
        source = FeedSource.objects.get()
        token = response.context["tokens"][0][1]
        assert token in response.content.decode()
        assert source.token_hash == hashlib.sha256(token.encode()).hexdigest()
        change = admin_client.get(reverse("admin:benefits_feedsource_change", args=[source.pk]))
        assert token not in change.content.decode()
        assert source.token_hash not in change.content.decode()
        assert push(Client(), payment(), token=token).status_code == HTTPStatus.ACCEPTED

    def test_renew_action_replaces_the_token(self, admin_client, member, token):
        source = FeedSource.objects.get()
        response = admin_client.post(
            reverse("admin:benefits_feedsource_changelist"),
            {"action": "renew_tokens", "_selected_action": [source.pk]},
        )
        assert response.status_code == HTTPStatus.OK
        ((name, renewed),) = response.context["tokens"]
        assert (name, renewed != token) == ("systeme-remboursements", True)
        assert push(Client(), payment(), token=token).status_code == HTTPStatus.UNAUTHORIZED
        assert push(Client(), payment(), token=renewed).status_code == HTTPStatus.ACCEPTED

    def test_revoke_action(self, admin_client, token):
        source = FeedSource.objects.get()
        admin_client.post(
            reverse("admin:benefits_feedsource_changelist"),
            {"action": "revoke_tokens", "_selected_action": [source.pk]},
        )
        source.refresh_from_db()
        assert source.revoked_at is not None

    def test_payment_pages_are_read_only_and_mask_the_nir(self, admin_client, client, member, token):
        push(client, payment(), token=token)
        push(client, "x", token=token)
        pay, run = Payment.objects.get(), PaymentImportRun.objects.order_by("pk").last()
        for model, obj in (("payment", pay), ("paymentimportrun", run)):
            assert admin_client.get(reverse(f"admin:benefits_{model}_add")).status_code == HTTPStatus.FORBIDDEN
            listing = admin_client.get(reverse(f"admin:benefits_{model}_changelist"))
            page = admin_client.get(reverse(f"admin:benefits_{model}_change", args=[obj.pk]))
            for response in (listing, page):
                assert response.status_code == HTTPStatus.OK
                assert member.nir not in response.content.decode()
            assert 'name="_save"' not in page.content.decode()
        assert (
            "Dr Claire Martin"
            in admin_client.get(reverse("admin:benefits_payment_change", args=[pay.pk])).content.decode()
        )

    def test_payment_search_by_full_nir(self, admin_client, client, member, token):
        push(client, payment(), token=token)
        response = admin_client.get(reverse("admin:benefits_payment_changelist"), {"q": NIR.formatted})
        assert "PAY-1" in response.content.decode()

    @pytest.mark.parametrize("model", ["statement", "duplicaterequest"])
    def test_other_pages_open(self, admin_client, model):
        assert admin_client.get(reverse(f"admin:benefits_{model}_changelist")).status_code == HTTPStatus.OK
