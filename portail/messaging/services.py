"""Writes of the secure messaging: start a thread, reply (member or agent), read, assign, close.

Every write locks the thread row, keeps its status and denormalised dates in step with its messages,
and checks any attachment from its content (attachments.attachment_check). The e-mail sent when an
agent answers says only that a message is waiting: never its content nor its subject.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from portail.accounts.enums import UserKind
from portail.accounts.models import Account
from portail.messaging.attachments import attachment_check
from portail.messaging.enums import AuthorKind, ThreadStatus, Topic
from portail.messaging.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, Attachment, Message, Thread
from portail.post.enums import EmailKind
from portail.post.services import email_enqueue

NEW_MESSAGE_EMAIL_TEMPLATE = "messaging/emails/new_message.txt"


class ThreadClosed(Exception):
    """Nobody writes to a closed thread: the member starts a new one."""


def new_message_email_subject() -> str:
    with override(settings.LANGUAGE_CODE):
        return _("Vous avez un nouveau message dans votre compte")


def body_normalise(body: str) -> str:
    """Line breaks as one character each (browsers send CRLF), and no blank edges."""
    return str(body).replace("\r\n", "\n").replace("\r", "\n").strip()


def _checked_body(body: str) -> str:
    body = body_normalise(body)
    if not body:
        raise ValueError("A message needs a body.")
    if len(body) > BODY_MAX_LENGTH:
        raise ValueError(f"A message body holds at most {BODY_MAX_LENGTH} characters.")
    return body


def _check_agent(agent) -> None:
    if agent is None or getattr(agent, "kind", None) != UserKind.AGENT or not agent.is_active:
        raise ValueError("Only an active agent of the fund may do this.")


def _locked(thread: Thread) -> Thread:
    return Thread.objects.select_for_update().get(pk=thread.pk)


def _attachment_save(*, message: Message, uploaded_file, now: dt.datetime) -> Attachment:
    """Check the file from its content, file it under a random name, and record it."""
    content_type, clean_name = attachment_check(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    attachment = Attachment(
        message=message,
        original_name=clean_name,
        content_type=content_type,
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
        created_at=now,
    )
    attachment.file.save(clean_name, uploaded_file, save=False)
    try:
        attachment.save()
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def _message_add(*, thread, author_kind, author_user=None, body, attachment, now) -> Message:
    message = Message.objects.create(
        thread=thread, author_kind=author_kind, author_user=author_user, body=body, created_at=now
    )
    if attachment is not None:
        _attachment_save(message=message, uploaded_file=attachment, now=now)
    return message


@transaction.atomic
def thread_start(*, member, topic, subject, body, attachment=None, now: dt.datetime) -> Thread:
    """A member writes to the fund: a new open thread with its first message (and optional file)."""
    subject = " ".join(str(subject).split())
    if not subject or len(subject) > SUBJECT_MAX_LENGTH:
        raise ValueError(f"A subject is 1 to {SUBJECT_MAX_LENGTH} characters.")
    body = _checked_body(body)
    thread = Thread.objects.create(
        member=member,
        topic=Topic(topic),
        subject=subject,
        status=ThreadStatus.OPEN,
        created_at=now,
        last_message_at=now,
        last_member_message_at=now,
        member_last_read_at=now,
    )
    _message_add(thread=thread, author_kind=AuthorKind.MEMBER, body=body, attachment=attachment, now=now)
    return thread


@transaction.atomic
def message_reply_by_member(*, thread: Thread, body, attachment=None, now: dt.datetime) -> Message:
    """The member answers in an existing thread, which waits for the fund again. Raises ThreadClosed."""
    body = _checked_body(body)
    thread = _locked(thread)
    if thread.is_closed:
        raise ThreadClosed(thread.pk)
    message = _message_add(thread=thread, author_kind=AuthorKind.MEMBER, body=body, attachment=attachment, now=now)
    thread.status = ThreadStatus.OPEN
    thread.last_message_at = thread.last_member_message_at = now
    thread.member_last_read_at = now  # what the member just wrote needs no reading
    thread.save(update_fields=["status", "last_message_at", "last_member_message_at", "member_last_read_at"])
    return message


@transaction.atomic
def message_reply_by_agent(*, thread: Thread, agent, body, attachment=None, now: dt.datetime) -> Message:
    """An agent answers: the thread is answered (waiting for the member), assigned to this agent if it
    was not assigned yet, and the member's verified e-mail address, if any, gets a notice that says
    nothing of the content. Raises ThreadClosed."""
    _check_agent(agent)
    body = _checked_body(body)
    thread = _locked(thread)
    if thread.is_closed:
        raise ThreadClosed(thread.pk)
    message = _message_add(
        thread=thread, author_kind=AuthorKind.AGENT, author_user=agent, body=body, attachment=attachment, now=now
    )
    thread.status = ThreadStatus.ANSWERED
    thread.last_message_at = thread.last_agent_message_at = now
    thread.agent_last_read_at = now
    if thread.assigned_to_id is None:
        thread.assigned_to = agent
    thread.save(
        update_fields=["status", "last_message_at", "last_agent_message_at", "agent_last_read_at", "assigned_to"]
    )
    new_message_notice_send(member=thread.member)
    return message


def new_message_notice_send(*, member):
    """E-mail the member's active account, at its verified address only, that a message is waiting.

    Returns the saved Email, or None when there is no verified address (the member sees the unread
    message at the next login; nothing is ever sent to an unconfirmed address).
    """
    account = Account.objects.active().filter(member=member).first()
    if account is None or account.is_demo or not account.email_verified:
        return None
    with override(settings.LANGUAGE_CODE):
        body = render_to_string(
            NEW_MESSAGE_EMAIL_TEMPLATE,
            {
                "threads_url": settings.PORTAIL_BASE_URL.rstrip("/") + reverse("messaging:threads"),
                "base_url": settings.PORTAIL_BASE_URL.rstrip("/"),
                "fund_name": settings.PORTAIL_FUND_NAME,
                "fund_phone": settings.PORTAIL_FUND_PHONE,
            },
        )
    return email_enqueue(
        to=account.email, subject=new_message_email_subject(), body=body, kind=EmailKind.NEW_MESSAGE, member=member
    )


def thread_mark_read_by_member(*, thread: Thread, now: dt.datetime) -> Thread:
    """The member opened the thread: every message in it is read. Writes only when something was unread."""
    if thread.unread_by_member:
        Thread.objects.filter(pk=thread.pk).update(member_last_read_at=now)
        thread.member_last_read_at = now
    return thread


def thread_mark_read_by_agent(*, thread: Thread, agent, now: dt.datetime) -> Thread:
    """An agent opened the thread (the back office logs who looked, in its own audit log)."""
    _check_agent(agent)
    if thread.unread_by_agents:
        Thread.objects.filter(pk=thread.pk).update(agent_last_read_at=now)
        thread.agent_last_read_at = now
    return thread


@transaction.atomic
def thread_assign(*, thread: Thread, agent) -> Thread:
    """Give the thread to an agent, or to nobody (agent=None)."""
    if agent is not None:
        _check_agent(agent)
    thread = _locked(thread)
    thread.assigned_to = agent
    thread.save(update_fields=["assigned_to"])
    return thread


@transaction.atomic
def thread_close(*, thread: Thread, agent, now: dt.datetime) -> Thread:
    """An agent closes the thread for good; the member can no longer write in it (a new one, yes).
    Closing a closed thread changes nothing."""
    _check_agent(agent)
    thread = _locked(thread)
    if thread.is_closed:
        return thread
    thread.status = ThreadStatus.CLOSED
    thread.closed_at = now
    thread.closed_by = agent
    thread.save(update_fields=["status", "closed_at", "closed_by"])
    return thread
