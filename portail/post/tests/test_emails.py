import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from portail.post.enums import EmailKind, EmailStatus
from portail.post.factories import EmailFactory
from portail.post.mail import DemoLetterboxBackend
from portail.post.models import Email
from portail.post.services import email_enqueue, email_send
from portail.registry.factories import MemberFactory

BODY = "Bonjour,\n\nConfirmez votre adresse : https://portail.example/confirmer/abc/\n"


@pytest.mark.django_db
class TestEmailEnqueue:
    def test_saved_then_sent_on_commit(self, mailoutbox, django_capture_on_commit_callbacks):
        member = MemberFactory()
        with django_capture_on_commit_callbacks(execute=True):
            email = email_enqueue(
                to="a@example.org", subject="Confirmez", body=BODY, kind=EmailKind.EMAIL_CONFIRMATION, member=member
            )
            assert mailoutbox == []
        email.refresh_from_db()
        assert email.status == EmailStatus.SENT
        assert email.attempts == 1
        assert email.sent_at is not None
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["a@example.org"]
        assert mailoutbox[0].body == BODY

    def test_rolled_back_transaction_sends_nothing(self, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                email_enqueue(to="a@example.org", subject="S", body=BODY, kind=EmailKind.OTHER)
                raise RuntimeError("the request failed")
        assert callbacks == []
        assert mailoutbox == []
        assert not Email.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            "Votre numéro : 1850575123456",
            "Votre numéro : 185057512345678",
            "Votre numéro : 1 85 05 75 123 456 78",
        ],
    )
    def test_refuses_a_nir_like_number(self, body):
        with pytest.raises(ValueError):
            email_enqueue(to="a@example.org", subject="S", body=body, kind=EmailKind.OTHER)
        assert not Email.objects.exists()

    def test_accepts_a_phone_number(self):
        email_enqueue(to="a@example.org", subject="S", body="Appelez le 01 00 00 00 00.", kind=EmailKind.OTHER)

    def test_refuses_an_invalid_address(self):
        with pytest.raises(ValidationError):
            email_enqueue(to="not an address", subject="S", body=BODY, kind=EmailKind.OTHER)


@pytest.mark.django_db
class TestEmailSend:
    def test_sending_twice_sends_once(self, mailoutbox):
        email = EmailFactory()
        email_send(email_id=email.pk)
        email_send(email_id=email.pk)
        assert len(mailoutbox) == 1
        email.refresh_from_db()
        assert email.status == EmailStatus.SENT
        assert email.attempts == 1

    def test_failure_is_recorded_then_retried(self, settings, mailoutbox):
        email = EmailFactory()
        settings.MAILERS = {"default": {"BACKEND": "portail.post.tests.test_emails.BrokenBackend"}}
        with pytest.raises(ConnectionRefusedError):
            email_send(email_id=email.pk)
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.FAILED, 1)
        assert "ConnectionRefusedError" in email.last_error

        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        email_send(email_id=email.pk)
        email.refresh_from_db()
        assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 2, "")
        assert len(mailoutbox) == 1

    def test_unknown_email_is_skipped(self):
        assert email_send(email_id=999_999) is None


class BrokenBackend(DemoLetterboxBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


class TestDemoLetterboxBackend:
    def test_keeps_everything_and_sends_nothing(self, settings):
        settings.MAILERS = {"default": {"BACKEND": "portail.post.mail.DemoLetterboxBackend"}}
        sent = mail.EmailMessage(subject="S", body="B", to=["a@example.org"]).send()
        assert sent == 1
        assert mail.outbox == []

    def test_accepts_the_alias_keyword(self):
        backend = DemoLetterboxBackend(alias="default")
        assert backend.alias == "default"
