"""Services of the secure messaging and the QuerySet the agents' inbox builds on."""

import datetime as dt
import hashlib
import stat

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from portail.accounts.tests.test_services import create_account
from portail.messaging import services
from portail.messaging.enums import AuthorKind, ThreadStatus, Topic
from portail.messaging.factories import AgentFactory, ThreadFactory, image_bytes, pdf_bytes, uploaded
from portail.messaging.models import BODY_MAX_LENGTH, Attachment, Message, Thread
from portail.post.enums import EmailKind
from portail.post.models import Email
from portail.registry.factories import MemberFactory

NOW = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
SUBJECT = "Remboursement d'une paire de lunettes"
BODY = "Bonjour,\r\nJ'attends le remboursement de mes lunettes depuis le 2 mars.\r\nMerci."
AGENT_BODY = "Votre dossier est en cours : le virement part cette semaine."


def start(member, **overrides):
    values = {"member": member, "topic": Topic.REIMBURSEMENT, "subject": SUBJECT, "body": BODY, "now": NOW}
    values.update(overrides)
    return services.thread_start(**values)


def verified(member, email="lea.martin@example.org"):
    account = create_account(member)
    account.email, account.email_verified_at = email, NOW
    account.save()
    return account


@pytest.mark.django_db
class TestThreadStart:
    def test_a_thread_with_its_first_message(self):
        member = MemberFactory()
        thread = start(member)
        assert thread.status == ThreadStatus.OPEN
        assert thread.topic == Topic.REIMBURSEMENT
        assert thread.last_message_at == thread.last_member_message_at == thread.member_last_read_at == NOW
        assert thread.last_agent_message_at is None
        message = thread.messages.get()
        assert message.author_kind == AuthorKind.MEMBER
        assert message.author_user is None
        assert message.body == BODY.replace("\r\n", "\n")

    def test_the_attachment_is_filed_privately_under_a_random_name(self, settings):
        data = pdf_bytes()
        thread = start(MemberFactory(), attachment=uploaded("Facture opticien.pdf", data))
        attachment = Attachment.objects.get(message__thread=thread)
        assert attachment.original_name == "Facture opticien.pdf"
        assert attachment.content_type == "application/pdf"
        assert attachment.size == len(data)
        assert attachment.sha256 == hashlib.sha256(data).hexdigest()
        path = settings.PORTAIL_ATTACHMENTS_DIR / attachment.file.name
        assert path.read_bytes() == data
        assert "Facture" not in attachment.file.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not str(path).startswith(str(django_settings.STORAGES["default"]["OPTIONS"]["location"]))

    def test_a_bad_attachment_saves_nothing(self, settings):
        with pytest.raises(ValidationError):
            start(MemberFactory(), attachment=uploaded("photo.pdf", image_bytes("PNG")))
        assert not Thread.objects.exists()
        assert not (settings.PORTAIL_ATTACHMENTS_DIR.exists() and any(settings.PORTAIL_ATTACHMENTS_DIR.rglob("*.*")))

    @pytest.mark.parametrize(
        ("field", "value"), [("body", ""), ("body", "x" * (BODY_MAX_LENGTH + 1)), ("subject", "  ")]
    )
    def test_refuses_an_empty_or_long_text(self, field, value):
        with pytest.raises(ValueError):
            start(MemberFactory(), **{field: value})

    def test_a_body_of_4000_characters_with_line_breaks_fits(self):
        body = ("a" * 99 + "\r\n") * 40  # 4 000 characters once each CRLF counts as one
        thread = start(MemberFactory(), body=body)
        assert len(thread.messages.get().body) == BODY_MAX_LENGTH - 1  # the last line break is trimmed


@pytest.mark.django_db
class TestReplies:
    def test_the_agent_answers_and_the_member_replies(self):
        agent = AgentFactory()
        thread = start(MemberFactory())
        later = NOW + dt.timedelta(hours=3)
        services.message_reply_by_agent(thread=thread, agent=agent, body=AGENT_BODY, now=later)
        thread.refresh_from_db()
        assert thread.status == ThreadStatus.ANSWERED
        assert thread.assigned_to == agent
        assert thread.last_message_at == thread.last_agent_message_at == thread.agent_last_read_at == later
        assert Thread.objects.unread_for_member().filter(pk=thread.pk).exists()

        again = later + dt.timedelta(days=1)
        services.message_reply_by_member(thread=thread, body="Merci, c'est reçu.", now=again)
        thread.refresh_from_db()
        assert thread.status == ThreadStatus.OPEN
        assert thread.last_member_message_at == thread.member_last_read_at == again
        assert [m.author_kind for m in thread.messages.in_order()] == [
            AuthorKind.MEMBER,
            AuthorKind.AGENT,
            AuthorKind.MEMBER,
        ]
        assert Message.objects.filter(thread=thread, author_kind=AuthorKind.AGENT).get().author_user == agent

    def test_the_agent_may_attach_a_file(self):
        thread = start(MemberFactory())
        services.message_reply_by_agent(
            thread=thread,
            agent=AgentFactory(),
            body=AGENT_BODY,
            attachment=uploaded("attestation.pdf", pdf_bytes()),
            now=NOW,
        )
        assert Attachment.objects.get().message.author_kind == AuthorKind.AGENT

    def test_an_assigned_thread_stays_with_its_agent(self):
        first, second = AgentFactory(), AgentFactory()
        thread = services.thread_assign(thread=start(MemberFactory()), agent=first)
        services.message_reply_by_agent(thread=thread, agent=second, body=AGENT_BODY, now=NOW)
        thread.refresh_from_db()
        assert thread.assigned_to == first

    def test_nobody_writes_to_a_closed_thread(self):
        agent = AgentFactory()
        thread = services.thread_close(thread=start(MemberFactory()), agent=agent, now=NOW)
        with pytest.raises(services.ThreadClosed):
            services.message_reply_by_member(thread=thread, body="Encore une question", now=NOW)
        with pytest.raises(services.ThreadClosed):
            services.message_reply_by_agent(thread=thread, agent=agent, body=AGENT_BODY, now=NOW)
        assert thread.messages.count() == 1

    def test_a_member_user_is_not_an_agent(self):
        account = create_account(MemberFactory())
        thread = start(account.member)
        with pytest.raises(ValueError):
            services.message_reply_by_agent(thread=thread, agent=account.user, body=AGENT_BODY, now=NOW)
        with pytest.raises(ValueError):
            services.thread_close(thread=thread, agent=account.user, now=NOW)


@pytest.mark.django_db
class TestNewMessageEmail:
    def test_goes_to_the_verified_address_without_content_nor_subject(self, settings):
        settings.PORTAIL_BASE_URL = "https://portail.caisse.example"
        member = MemberFactory()
        verified(member)
        thread = start(member)
        services.message_reply_by_agent(thread=thread, agent=AgentFactory(), body=AGENT_BODY, now=NOW)
        email = Email.objects.get()
        assert email.to == "lea.martin@example.org"
        assert email.kind == EmailKind.NEW_MESSAGE
        assert email.member == member
        assert email.subject == "Vous avez un nouveau message dans votre compte"
        assert "https://portail.caisse.example/mon-compte/messagerie/" in email.body
        assert AGENT_BODY not in email.body
        assert "virement" not in email.body
        assert SUBJECT not in email.body and "lunettes" not in email.body
        assert "ne vous demande jamais" in email.body
        assert "cliquer sur un lien pour vous connecter" in email.body
        assert "tapez vous-même l'adresse https://portail.caisse.example" in email.body

    def test_sent_once_the_transaction_commits(self, django_capture_on_commit_callbacks, mailoutbox):
        member = MemberFactory()
        verified(member)
        thread = start(member)
        with django_capture_on_commit_callbacks(execute=True):
            services.message_reply_by_agent(thread=thread, agent=AgentFactory(), body=AGENT_BODY, now=NOW)
        assert [message.subject for message in mailoutbox] == ["Vous avez un nouveau message dans votre compte"]

    def test_nothing_to_an_unconfirmed_address(self):
        member = MemberFactory()
        account = create_account(member)
        account.email, account.email_verified_at = "pas.confirme@example.org", None
        account.save()
        services.message_reply_by_agent(thread=start(member), agent=AgentFactory(), body=AGENT_BODY, now=NOW)
        assert not Email.objects.exists()

    def test_nothing_without_an_address(self):
        member = MemberFactory()
        create_account(member)
        services.message_reply_by_agent(thread=start(member), agent=AgentFactory(), body=AGENT_BODY, now=NOW)
        assert not Email.objects.exists()

    def test_a_member_reply_sends_nothing(self):
        member = MemberFactory()
        verified(member)
        services.message_reply_by_member(thread=start(member), body="Autre chose", now=NOW)
        assert not Email.objects.exists()


@pytest.mark.django_db
class TestReadingAndClosing:
    def test_reading_marks_read_and_writes_only_when_needed(self, django_assert_num_queries):
        thread = start(MemberFactory())
        answered = NOW + dt.timedelta(hours=1)
        services.message_reply_by_agent(thread=thread, agent=AgentFactory(), body=AGENT_BODY, now=answered)
        thread.refresh_from_db()
        later = answered + dt.timedelta(minutes=5)
        with django_assert_num_queries(1):
            services.thread_mark_read_by_member(thread=thread, now=later)
        assert not Thread.objects.unread_for_member().exists()
        with django_assert_num_queries(0):
            services.thread_mark_read_by_member(thread=thread, now=later + dt.timedelta(minutes=1))

    def test_an_agent_reads(self):
        thread = start(MemberFactory())
        assert Thread.objects.unread_for_agents().filter(pk=thread.pk).exists()
        services.thread_mark_read_by_agent(thread=thread, agent=AgentFactory(), now=NOW + dt.timedelta(hours=1))
        assert not Thread.objects.unread_for_agents().exists()

    def test_closing(self):
        agent = AgentFactory()
        thread = services.thread_close(thread=start(MemberFactory()), agent=agent, now=NOW)
        assert (thread.status, thread.closed_at, thread.closed_by) == (ThreadStatus.CLOSED, NOW, agent)
        again = services.thread_close(thread=thread, agent=AgentFactory(), now=NOW + dt.timedelta(days=1))
        assert (again.closed_at, again.closed_by) == (NOW, agent)


@pytest.mark.django_db
class TestThreadQuerySet:
    def test_the_agents_inbox_queries(self):
        agent = AgentFactory()
        old = start(MemberFactory(), now=NOW - dt.timedelta(days=10))
        recent = start(MemberFactory(), topic=Topic.VITALE_CARD, now=NOW - dt.timedelta(hours=2))
        answered = start(MemberFactory(), now=NOW - dt.timedelta(days=20))
        services.message_reply_by_agent(thread=answered, agent=agent, body=AGENT_BODY, now=NOW - dt.timedelta(days=9))
        closed = services.thread_close(thread=start(MemberFactory(), now=NOW), agent=agent, now=NOW)

        assert set(Thread.objects.waiting_for_fund()) == {old, recent}
        assert set(Thread.objects.waiting_for_member()) == {answered}
        assert set(Thread.objects.not_closed()) == {old, recent, answered}
        assert set(Thread.objects.by_topic(Topic.VITALE_CARD)) == {recent}
        assert list(Thread.objects.waiting_for_fund().older_than(dt.timedelta(days=5), now=NOW)) == [old]
        assert list(Thread.objects.waiting_for_fund().oldest_activity_first()) == [old, recent]
        assert set(Thread.objects.assigned_to(agent)) == {answered}
        assert set(Thread.objects.unassigned()) == {old, recent, closed}

    def test_for_member_and_unread(self):
        member = MemberFactory()
        mine = start(member)
        theirs = start(MemberFactory())
        answered = NOW + dt.timedelta(hours=1)
        services.message_reply_by_agent(thread=theirs, agent=AgentFactory(), body=AGENT_BODY, now=answered)
        assert list(Thread.objects.for_member(member)) == [mine]
        assert not Thread.objects.for_member(member).unread_for_member().exists()
        assert list(Thread.objects.unread_for_member()) == [theirs]

    def test_the_factory_makes_a_consistent_thread(self):
        thread = ThreadFactory()
        assert thread.messages.count() == 1
        assert not thread.unread_by_member
