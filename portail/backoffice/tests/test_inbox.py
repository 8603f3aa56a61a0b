"""The agents' inbox: who gets in, the filters, the waiting time against the target, answering (one
e-mail without the content), assigning, closing, the audit rows and the query count."""

import datetime as dt
from html import escape
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portail.backoffice import inbox
from portail.backoffice.enums import AccessReason, AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.testing import agent_make, client_log_agent_in
from portail.backoffice.tests.conftest import account_make
from portail.messaging import services as messaging
from portail.messaging.enums import AuthorKind, ThreadStatus, Topic
from portail.messaging.factories import ThreadFactory, pdf_bytes, uploaded
from portail.messaging.models import Message, Thread
from portail.post.models import Email
from portail.registry.factories import MemberFactory

SUBJECT = "Vous avez un nouveau message dans votre compte"
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _attachments_dir(settings, tmp_path):
    settings.PORTAIL_ATTACHMENTS_DIR = tmp_path / "attachments"


@pytest.fixture
def thread(member):
    return ThreadFactory(member=member, subject="Remboursement d'une radio")


def thread_url(thread, name="backoffice:thread"):
    return reverse(name, args=[thread.pk])


def waiting_since(hours, **kwargs):
    moment = timezone.now() - dt.timedelta(hours=hours)
    return ThreadFactory(created_at=moment, **kwargs)


# --- Who gets in ------------------------------------------------------------------------------

# (URL name, HTTP method)
INBOX_PAGES = [
    ("backoffice:inbox", "get"),
    ("backoffice:thread", "get"),
    ("backoffice:thread_answer", "post"),
    ("backoffice:thread_assign", "post"),
    ("backoffice:thread_close", "get"),
    ("backoffice:thread_close", "post"),
    ("backoffice:thread_attachment", "get"),
]
INBOX_IDS = [f"{name.split(':')[1]}-{method}" for name, method in INBOX_PAGES]


def call(client, name, method, thread):
    if name == "backoffice:inbox":
        args = []
    elif name == "backoffice:thread_attachment":
        args = [thread.messages.get().attachments.get().pk]
    else:
        args = [thread.pk]
    response = getattr(client, method)(reverse(name, args=args))
    if response.streaming:
        # Read a download to the end: the test client then closes the file. (Calling close() here
        # would send request_finished, which closes the database connection of the test on PostgreSQL.)
        b"".join(response.streaming_content)
    return response


@pytest.fixture
def thread_with_file(db):
    return messaging.thread_start(
        member=MemberFactory(),
        topic=Topic.CERTIFICATE,
        subject="Attestation",
        body="Voici le justificatif.",
        attachment=uploaded("justificatif.pdf", pdf_bytes()),
        now=timezone.now(),
    )


@pytest.mark.django_db
class TestRefused:
    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_anonymous_goes_to_the_agents_login(self, client, thread_with_file, name, method):
        response = call(client, name, method, thread_with_file)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("backoffice:login") + "?next=")

    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_a_logged_in_member_is_forbidden(self, client, thread_with_file, name, method):
        client.force_login(account_make(thread_with_file.member).user)
        assert call(client, name, method, thread_with_file).status_code == HTTPStatus.FORBIDDEN

    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_an_agent_without_the_second_factor_goes_to_the_login(self, client, thread_with_file, name, method):
        client_log_agent_in(client, agent_make(role=AgentRole.ADMINISTRATOR), verified=False)
        response = call(client, name, method, thread_with_file)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("backoffice:login"))

    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_an_agent_without_a_role_is_forbidden(self, client, thread_with_file, name, method):
        client_log_agent_in(client, agent_make(role=None))
        assert call(client, name, method, thread_with_file).status_code == HTTPStatus.FORBIDDEN

    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_nothing_changes_for_a_refused_user(self, client, thread_with_file, name, method):
        client.force_login(account_make(thread_with_file.member).user)
        call(client, name, method, thread_with_file)
        thread_with_file.refresh_from_db()
        assert thread_with_file.status == ThreadStatus.OPEN
        assert thread_with_file.assigned_to is None
        assert not AgentAccess.objects.exists()


@pytest.mark.django_db
class TestAllowed:
    @pytest.mark.parametrize("role", list(AgentRole))
    @pytest.mark.parametrize(("name", "method"), INBOX_PAGES, ids=INBOX_IDS)
    def test_every_role_gets_in(self, client, thread_with_file, role, name, method):
        client_log_agent_in(client, agent_make(role=role))
        response = call(client, name, method, thread_with_file)
        assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST}
        if response.status_code == HTTPStatus.FOUND:
            assert not response["Location"].startswith(reverse("backoffice:login"))

    def test_an_unknown_thread_is_a_404(self, as_agent):
        assert as_agent.get(reverse("backoffice:thread", args=[999999])).status_code == HTTPStatus.NOT_FOUND
        assert not AgentAccess.objects.exists()


# --- The list -------------------------------------------------------------------------------


def listed(response) -> list[str]:
    return [thread.subject for thread, _waiting in response.context["rows"]]


@pytest.mark.django_db
class TestInboxList:
    def test_waiting_threads_oldest_first_by_default(self, as_agent):
        ThreadFactory(subject="récent", created_at=timezone.now() - dt.timedelta(hours=2))
        ThreadFactory(subject="ancien", created_at=timezone.now() - dt.timedelta(days=4))
        ThreadFactory(subject="clos", status=ThreadStatus.CLOSED, closed_at=timezone.now())
        response = as_agent.get(reverse("backoffice:inbox"))
        assert listed(response) == ["ancien", "récent"]
        page = response.content.decode()
        assert "depuis 4 jours" in page
        assert "depuis 2 h" in page

    def test_a_row_shows_the_member_masked_assigned_agent_and_status(self, as_agent, agent, member):
        ThreadFactory(member=member, subject="Carte perdue", topic=Topic.VITALE_CARD, assigned_to=agent)
        page = as_agent.get(reverse("backoffice:inbox")).content.decode()
        assert "Lefèvre Léa" in page
        assert member.nir_masked in page
        assert member.nir not in page
        assert "Carte Vitale" in page
        assert "En attente de la caisse" in page
        assert "Vous" in page

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"etat": "attente"}, ["attente-radio", "attente-carte"]),
            ({"etat": "repondu"}, ["repondu"]),
            ({"etat": "clos"}, ["clos"]),
            ({"etat": "tous"}, ["clos", "repondu", "attente-carte", "attente-radio"]),
            ({"theme": Topic.VITALE_CARD.value}, ["attente-carte"]),
            ({"attente": "48"}, ["attente-radio"]),
            ({"attente": "24"}, ["attente-radio", "attente-carte"]),
            ({"agent": "moi"}, ["attente-carte"]),
            ({"agent": "personne"}, ["attente-radio"]),
            ({"etat": "tous", "agent": "moi", "theme": Topic.VITALE_CARD.value}, ["attente-carte"]),
        ],
    )
    def test_filters(self, as_agent, agent, query, expected):
        now = timezone.now()
        ThreadFactory(subject="attente-radio", created_at=now - dt.timedelta(hours=60))
        ThreadFactory(
            subject="attente-carte",
            topic=Topic.VITALE_CARD,
            created_at=now - dt.timedelta(hours=30),
            assigned_to=agent,
        )
        answered = ThreadFactory(subject="repondu", created_at=now - dt.timedelta(hours=20))
        messaging.message_reply_by_agent(
            thread=answered, agent=agent_make(), body="Réponse", now=now - dt.timedelta(hours=10)
        )
        closed = ThreadFactory(subject="clos", created_at=now - dt.timedelta(hours=5))
        messaging.thread_close(thread=closed, agent=agent_make(), now=now)
        Thread.objects.filter(pk=closed.pk).update(last_message_at=now - dt.timedelta(hours=1))
        assert listed(as_agent.get(reverse("backoffice:inbox"), query)) == expected

    def test_the_age_filter_offers_the_target(self, as_agent, settings):
        settings.PORTAIL_MESSAGE_TARGET_HOURS = 72
        page = as_agent.get(reverse("backoffice:inbox")).content.decode()
        assert "il y a plus de 72 h (délai cible dépassé)" in page
        assert "il y a plus de 24 h" in page

    def test_paginated(self, as_agent):
        for _index in range(inbox.INBOX_PAGE_SIZE + 2):
            ThreadFactory()
        first = as_agent.get(reverse("backoffice:inbox"))
        assert len(first.context["rows"]) == inbox.INBOX_PAGE_SIZE
        assert "Page 1 sur 2" in first.content.decode()
        second = as_agent.get(reverse("backoffice:inbox"), {"page": 2})
        assert len(second.context["rows"]) == 2

    def test_empty(self, as_agent):
        assert (
            "Aucun assuré n'attend de réponse de la caisse."
            in as_agent.get(reverse("backoffice:inbox")).content.decode()
        )

    def test_an_invalid_filter_shows_the_default_list(self, as_agent):
        ThreadFactory(subject="attente")
        response = as_agent.get(reverse("backoffice:inbox"), {"etat": "n'importe quoi"})
        assert response.status_code == HTTPStatus.OK
        assert listed(response) == ["attente"]

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_the_threads(self, as_agent, count, django_assert_num_queries, settings):
        agents = [agent_make(), agent_make()]
        for index in range(count):
            ThreadFactory(assigned_to=agents[index % 2], member=MemberFactory())
        as_agent.get(reverse("backoffice:inbox"))  # warm the session and the user's groups
        # session (when sessions are in the database, not in Redis), user, OTP device, the request's
        # savepoint and its release, the role (groups), the paginator's count, the page (threads with
        # member and agent), the overdue count.
        session_queries = 0 if settings.SESSION_ENGINE == "portail.accounts.sessions.cache" else 1
        with django_assert_num_queries(8 + session_queries):
            response = as_agent.get(reverse("backoffice:inbox"))
        assert len(response.context["rows"]) == min(count, inbox.INBOX_PAGE_SIZE)


# --- The waiting time and the target -------------------------------------------------------------


class TestWaitingWords:
    @pytest.mark.parametrize(
        ("elapsed", "words"),
        [
            (dt.timedelta(minutes=12), "depuis 12 min"),
            (dt.timedelta(hours=5, minutes=40), "depuis 5 h"),
            (dt.timedelta(hours=47), "depuis 47 h"),
            (dt.timedelta(hours=49), "depuis 2 jours"),
            (dt.timedelta(days=3, hours=2), "depuis 3 jours"),
        ],
    )
    def test_words(self, elapsed, words):
        assert inbox.waiting_words(NOW - elapsed, now=NOW) == words


@pytest.mark.django_db
class TestTarget:
    def test_no_warning_before_the_target(self, as_agent, thread, settings):
        settings.PORTAIL_MESSAGE_TARGET_HOURS = 48
        with time_machine.travel(thread.created_at + dt.timedelta(hours=47), tick=False):
            inbox_page = as_agent.get(reverse("backoffice:inbox")).content.decode()
            thread_page = as_agent.get(thread_url(thread)).content.decode()
        assert "Délai dépassé" not in inbox_page
        assert "délai cible dépassé)." not in inbox_page
        assert "Délai dépassé" not in thread_page

    def test_a_warning_in_words_past_the_target(self, as_agent, thread, settings):
        settings.PORTAIL_MESSAGE_TARGET_HOURS = 48
        with time_machine.travel(thread.created_at + dt.timedelta(hours=49), tick=False):
            inbox_page = as_agent.get(reverse("backoffice:inbox")).content.decode()
            thread_page = as_agent.get(thread_url(thread)).content.decode()
        assert "Délai dépassé" in inbox_page
        assert "1 conversation attend une réponse depuis plus de 48 h (délai cible dépassé)." in inbox_page
        assert "Délai dépassé" in thread_page
        assert "au-delà du délai cible de 48 h" in thread_page

    def test_the_target_is_a_setting(self, as_agent, thread, settings):
        settings.PORTAIL_MESSAGE_TARGET_HOURS = 24
        with time_machine.travel(thread.created_at + dt.timedelta(hours=30), tick=False):
            assert "Délai dépassé" in as_agent.get(reverse("backoffice:inbox")).content.decode()

    def test_an_answered_thread_is_not_late(self, as_agent, thread, agent):
        messaging.message_reply_by_agent(thread=thread, agent=agent, body="Réponse", now=timezone.now())
        with time_machine.travel(timezone.now() + dt.timedelta(days=10), tick=False):
            page = as_agent.get(reverse("backoffice:inbox"), {"etat": "tous"}).content.decode()
        assert "Délai dépassé" not in page


# --- The thread ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestThreadPage:
    def test_messages_in_order_and_the_answer_form(self, as_agent, agent, thread):
        first = thread.messages.get()
        messaging.message_reply_by_agent(
            thread=thread, agent=agent, body="Deuxième message", now=first.created_at + dt.timedelta(hours=1)
        )
        messaging.message_reply_by_member(
            thread=thread, body="Troisième message", now=first.created_at + dt.timedelta(hours=2)
        )
        page = as_agent.get(thread_url(thread)).content.decode()
        assert page.index(first.body[:30]) < page.index("Deuxième message") < page.index("Troisième message")
        assert 'name="body"' in page
        assert 'maxlength="4000"' in page
        assert "Clore la conversation" in page

    def test_every_opening_is_an_audit_row(self, as_agent, agent, thread):
        as_agent.get(thread_url(thread))
        as_agent.get(thread_url(thread))
        rows = AgentAccess.objects.filter(member=thread.member)
        assert rows.count() == 2
        for row in rows:
            assert (row.agent, row.action, row.reason) == (
                agent,
                AgentAction.MEMBER_VIEWED,
                AccessReason.MEMBER_MESSAGE,
            )
            assert row.get_reason_display() == "Réponse à un message"
            assert row.detail == f"conversation n° {thread.pk} : ouverte"

    def test_opening_marks_it_read_by_agents(self, as_agent, thread):
        assert thread.unread_by_agents
        as_agent.get(thread_url(thread))
        thread.refresh_from_db()
        assert not thread.unread_by_agents

    def test_the_member_file_links_to_the_threads(self, as_agent, thread):
        response = as_agent.get(
            reverse("backoffice:member", args=[thread.member.pk]), {"motif": AccessReason.MEMBER_MESSAGE.value}
        )
        assert thread_url(thread) in response.content.decode()
        assert escape(thread.subject) in response.content.decode()

    def test_the_member_file_without_threads(self, as_agent, member):
        response = as_agent.get(
            reverse("backoffice:member", args=[member.pk]), {"motif": AccessReason.MEMBER_CALL.value}
        )
        assert "Cet assuré n'a écrit aucun message." in response.content.decode()


@pytest.mark.django_db
class TestAnswer:
    def test_the_answer_is_sent_and_the_member_gets_one_email_without_content(
        self, as_agent, agent, thread, member_account, django_capture_on_commit_callbacks, mailoutbox
    ):
        answer = "Votre radio a été remboursée le 4 mars."
        with django_capture_on_commit_callbacks(execute=True):
            response = as_agent.post(thread_url(thread, "backoffice:thread_answer"), {"body": answer})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == thread_url(thread)
        message = Message.objects.filter(thread=thread, author_kind=AuthorKind.AGENT).get()
        assert (message.body, message.author_user) == (answer, agent)
        thread.refresh_from_db()
        assert thread.status == ThreadStatus.ANSWERED
        assert thread.assigned_to == agent
        assert len(mailoutbox) == 1
        email = mailoutbox[0]
        assert email.to == [member_account.email]
        assert email.subject == SUBJECT
        assert answer not in email.body
        assert "remboursée" not in email.body
        assert thread.subject not in email.body
        assert Email.objects.count() == 1
        assert AgentAccess.objects.filter(
            detail=f"conversation n° {thread.pk} : réponse envoyée", agent=agent
        ).exists()

    def test_no_email_to_an_unverified_address(self, as_agent, thread, django_capture_on_commit_callbacks, mailoutbox):
        account_make(thread.member, verified=False)
        with django_capture_on_commit_callbacks(execute=True):
            as_agent.post(thread_url(thread, "backoffice:thread_answer"), {"body": "Réponse"})
        assert mailoutbox == []
        assert Message.objects.filter(thread=thread, author_kind=AuthorKind.AGENT).exists()

    @pytest.mark.parametrize(("body", "error"), [("  ", "Écrivez votre réponse."), ("x" * 4001, "4001 caractères")])
    def test_an_empty_or_too_long_answer_is_refused(self, as_agent, thread, body, error):
        response = as_agent.post(thread_url(thread, "backoffice:thread_answer"), {"body": body})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert error in response.content.decode().replace("\u202f", "").replace("\xa0", "")
        assert not Message.objects.filter(thread=thread, author_kind=AuthorKind.AGENT).exists()

    def test_a_closed_thread_takes_no_answer(self, as_agent, agent, thread):
        messaging.thread_close(thread=thread, agent=agent, now=timezone.now())
        response = as_agent.post(thread_url(thread, "backoffice:thread_answer"), {"body": "Trop tard"})
        assert response.status_code == HTTPStatus.FOUND
        assert not Message.objects.filter(thread=thread, author_kind=AuthorKind.AGENT).exists()
        assert 'name="body"' not in as_agent.get(thread_url(thread)).content.decode()


@pytest.mark.django_db
class TestAssignAndClose:
    def test_assign_to_me_then_unassign(self, as_agent, agent, thread):
        url = thread_url(thread, "backoffice:thread_assign")
        assert as_agent.post(url, {"attribution": "moi"})["Location"] == thread_url(thread)
        thread.refresh_from_db()
        assert thread.assigned_to == agent
        assert "Ne plus m'attribuer cette conversation" in as_agent.get(thread_url(thread)).content.decode()
        as_agent.post(url, {"attribution": "personne"})
        thread.refresh_from_db()
        assert thread.assigned_to is None
        details = set(AgentAccess.objects.filter(member=thread.member).values_list("detail", flat=True))
        assert f"conversation n° {thread.pk} : attribuée à {agent.username}" in details
        assert f"conversation n° {thread.pk} : attribution retirée" in details

    def test_take_over_from_another_agent(self, as_agent, agent, thread):
        messaging.thread_assign(thread=thread, agent=agent_make())
        as_agent.post(thread_url(thread, "backoffice:thread_assign"), {"attribution": "moi"})
        thread.refresh_from_db()
        assert thread.assigned_to == agent

    def test_close_asks_for_confirmation_first(self, as_agent, thread):
        page = as_agent.get(thread_url(thread, "backoffice:thread_close"))
        assert page.status_code == HTTPStatus.OK
        assert "Clore cette conversation ?" in page.content.decode()
        thread.refresh_from_db()
        assert thread.status == ThreadStatus.OPEN

    def test_close(self, as_agent, agent, thread):
        response = as_agent.post(thread_url(thread, "backoffice:thread_close"))
        assert response["Location"] == thread_url(thread)
        thread.refresh_from_db()
        assert (thread.status, thread.closed_by) == (ThreadStatus.CLOSED, agent)
        assert AgentAccess.objects.filter(detail=f"conversation n° {thread.pk} : close").exists()
        page = as_agent.get(thread_url(thread)).content.decode()
        assert "Cette conversation est close" in page
        # Closing twice changes nothing and says so.
        as_agent.post(thread_url(thread, "backoffice:thread_close"))
        assert AgentAccess.objects.filter(detail=f"conversation n° {thread.pk} : close").count() == 1


@pytest.mark.django_db
class TestAttachment:
    def test_download_is_audited(self, as_agent, agent, thread_with_file):
        attachment = thread_with_file.messages.get().attachments.get()
        response = as_agent.get(reverse("backoffice:thread_attachment", args=[attachment.pk]))
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        row = AgentAccess.objects.get(member=thread_with_file.member)
        assert row.detail == f"conversation n° {thread_with_file.pk} : pièce jointe n° {attachment.pk} téléchargée"
        assert row.reason == AccessReason.MEMBER_MESSAGE

    def test_the_thread_page_links_to_the_agents_download(self, as_agent, thread_with_file):
        attachment = thread_with_file.messages.get().attachments.get()
        page = as_agent.get(thread_url(thread_with_file)).content.decode()
        assert reverse("backoffice:thread_attachment", args=[attachment.pk]) in page
        assert reverse("messaging:attachment", args=[attachment.pk]) not in page

    def test_unknown_file_is_a_404(self, as_agent):
        assert as_agent.get(reverse("backoffice:thread_attachment", args=[999999])).status_code == HTTPStatus.NOT_FOUND
