"""The agents' inbox: the members' threads (filtered, oldest wait first), one thread (read, answer, assign,
close) and its files. Every agent role may use it.

Opening a thread shows a member's data: each showing is one audit row (reason « Réponse à un message »),
like the member's file. Answering, assigning, closing and downloading a file are audited too. The writes
themselves are the messaging services (`portail.messaging.services`).
"""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from portail.accounts import security
from portail.backoffice import services
from portail.backoffice.decorators import agent_view
from portail.backoffice.enums import AccessReason, AgentAction
from portail.forms import PortailForm
from portail.messaging import services as messaging
from portail.messaging.enums import ThreadStatus, Topic
from portail.messaging.forms import BodyField
from portail.messaging.models import Attachment, Message, Thread
from portail.messaging.views import attachment_response

INBOX_PAGE_SIZE = 25

# The audit actions of the inbox. AgentAction has no action of its own for messages yet: every row is
# recorded as a consultation of the member's file, with reason « Réponse à un message » and a detail
# saying what happened. Point these at dedicated actions once AgentAction has them.
AUDIT_THREAD_OPENED = AgentAction.MEMBER_VIEWED
AUDIT_THREAD_ANSWERED = AgentAction.THREAD_ANSWERED
AUDIT_THREAD_ASSIGNED = AgentAction.THREAD_ASSIGNED
AUDIT_THREAD_CLOSED = AgentAction.THREAD_CLOSED
AUDIT_ATTACHMENT_DOWNLOADED = AgentAction.ATTACHMENT_DOWNLOADED


# --- Waiting time -------------------------------------------------------------------------------


def target_hours() -> int:
    return settings.PORTAIL_MESSAGE_TARGET_HOURS


def waiting_words(since: dt.datetime, *, now: dt.datetime) -> str:
    """« depuis 12 min », « depuis 5 h » (up to 48 h, so that it reads against a target in hours),
    « depuis 3 jours »."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return _("depuis %(count)s min") % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("depuis %(count)s h") % {"count": hours}
    days = hours // 24
    return ngettext("depuis %(count)s jour", "depuis %(count)s jours", days) % {"count": days}


@dataclass(frozen=True)
class Waiting:
    """How long the fund has kept a member waiting (only while the thread waits for the fund)."""

    words: str
    overdue: bool


def thread_waiting(thread: Thread, *, now: dt.datetime) -> Waiting | None:
    if thread.status != ThreadStatus.OPEN:
        return None
    since = thread.last_member_message_at or thread.last_message_at
    return Waiting(words=waiting_words(since, now=now), overdue=now - since > dt.timedelta(hours=target_hours()))


# --- Forms ------------------------------------------------------------------------------------


class InboxState:
    WAITING = "attente"
    ANSWERED = "repondu"
    CLOSED = "clos"
    ALL = "tous"


class InboxAssigned:
    ME = "moi"
    NOBODY = "personne"


class InboxFilterForm(PortailForm):
    """The inbox's filters, in the query string (nothing secret in them)."""

    etat = forms.ChoiceField(
        label=gettext_lazy("État"),
        required=False,
        choices=[
            (InboxState.WAITING, gettext_lazy("En attente de la caisse")),
            (InboxState.ANSWERED, gettext_lazy("Répondu, en attente de l'assuré")),
            (InboxState.CLOSED, gettext_lazy("Clos")),
            (InboxState.ALL, gettext_lazy("Tous")),
        ],
    )
    theme = forms.ChoiceField(
        label=gettext_lazy("Thème"), required=False, choices=[("", gettext_lazy("Tous les thèmes")), *Topic.choices]
    )
    attente = forms.TypedChoiceField(
        label=gettext_lazy("Dernier message"), required=False, coerce=int, empty_value=None
    )
    agent = forms.ChoiceField(
        label=gettext_lazy("Agent chargé"),
        required=False,
        choices=[
            ("", gettext_lazy("Tous")),
            (InboxAssigned.ME, gettext_lazy("Moi")),
            (InboxAssigned.NOBODY, gettext_lazy("Personne (non attribuées)")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        target = target_hours()
        choices = [("", _("Toute ancienneté"))]
        for hours in sorted({24, 48, target}):
            label = _("il y a plus de %(hours)s h") % {"hours": hours}
            if hours == target:
                label = _("%(label)s (délai cible dépassé)") % {"label": label}
            choices.append((str(hours), label))
        self.fields["attente"].choices = choices


def inbox_threads(*, agent, state: str, topic: str, older_than_hours: int | None, assigned: str, now: dt.datetime):
    """The threads the inbox lists: filtered, who has waited longest first (newest first for the rest)."""
    threads = Thread.objects.select_related("member", "assigned_to")
    if state == InboxState.WAITING:
        threads = threads.waiting_for_fund().oldest_activity_first()
    else:
        if state == InboxState.ANSWERED:
            threads = threads.waiting_for_member()
        elif state == InboxState.CLOSED:
            threads = threads.filter(status=ThreadStatus.CLOSED)
        threads = threads.newest_activity_first()
    if topic:
        threads = threads.by_topic(topic)
    if older_than_hours is not None:
        threads = threads.older_than(dt.timedelta(hours=older_than_hours), now=now)
    if assigned == InboxAssigned.ME:
        threads = threads.assigned_to(agent)
    elif assigned == InboxAssigned.NOBODY:
        threads = threads.unassigned()
    return threads


class AnswerForm(PortailForm):
    body = BodyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("Votre réponse à l'assuré")
        self.fields["body"].help_text = _(
            "4 000 caractères au plus. L'assuré reçoit un e-mail qui l'invite à lire la réponse dans son compte : "
            "l'e-mail n'en reprend pas le texte."
        )
        self.fields["body"].error_messages["required"] = _("Écrivez votre réponse.")
        self.fields["body"].error_messages["max_length"] = _(
            "Votre réponse fait %(show_value)d caractères : %(limit_value)d au plus. Raccourcissez-la."
        )


class AssignForm(forms.Form):
    attribution = forms.ChoiceField(choices=[(InboxAssigned.ME, InboxAssigned.ME), (InboxAssigned.NOBODY, "")])


# --- Views ------------------------------------------------------------------------------------


def _record(request, *, action, thread, detail: str) -> None:
    services.agent_access_record(
        agent=request.user,
        action=action,
        member=thread.member,
        reason=AccessReason.MEMBER_MESSAGE,
        detail=f"conversation n° {thread.pk} : {detail}",
        client_ip=security.client_ip(request),
    )


def _thread_url(thread) -> str:
    return reverse("backoffice:thread", args=[thread.pk])


def _thread_or_404(thread_id) -> Thread:
    return get_object_or_404(Thread.objects.select_related("member", "assigned_to", "closed_by"), pk=thread_id)


@agent_view
def inbox_view(request):
    now = timezone.now()
    form = InboxFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    threads = inbox_threads(
        agent=request.user,
        state=data.get("etat") or InboxState.WAITING,
        topic=data.get("theme") or "",
        older_than_hours=data.get("attente"),
        assigned=data.get("agent") or "",
        now=now,
    )
    page = Paginator(threads, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(thread, thread_waiting(thread, now=now)) for thread in page.object_list]
    overdue_count = Thread.objects.waiting_for_fund().older_than(dt.timedelta(hours=target_hours()), now=now).count()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/inbox.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "target_hours": target_hours(),
            "overdue_count": overdue_count,
            "oldest_first": (data.get("etat") or InboxState.WAITING) == InboxState.WAITING,
        },
    )


def _thread_page(request, thread, *, answer_form=None, status=200):
    """The thread as an agent sees it. Each showing is a consultation of the member's data: one audit row."""
    now = timezone.now()
    _record(request, action=AUDIT_THREAD_OPENED, thread=thread, detail="ouverte")
    thread_messages = list(
        Message.objects.filter(thread=thread).in_order().select_related("author_user").prefetch_related("attachments")
    )
    new_message_ids = {
        message.pk
        for message in thread_messages
        if message.by_member and (thread.agent_last_read_at is None or message.created_at > thread.agent_last_read_at)
    }
    thread = messaging.thread_mark_read_by_agent(thread=thread, agent=request.user, now=now)
    context = {
        "thread": thread,
        "member": thread.member,
        "thread_messages": thread_messages,
        "new_message_ids": new_message_ids,
        "waiting": thread_waiting(thread, now=now),
        "target_hours": target_hours(),
        "answer_form": None if thread.is_closed else (answer_form or AnswerForm()),
        "member_file_url": reverse("backoffice:member", args=[thread.member_id])
        + f"?motif={AccessReason.MEMBER_MESSAGE.value}",
    }
    return render(request, "backoffice/thread.html", context, status=status)


@agent_view
def thread_view(request, thread_id):
    return _thread_page(request, _thread_or_404(thread_id))


@agent_view
@require_POST
def thread_answer_view(request, thread_id):
    thread = _thread_or_404(thread_id)
    form = AnswerForm(request.POST)
    if thread.is_closed:
        messages.error(request, _("Cette conversation est close : l'assuré doit écrire un nouveau message."))
        return redirect(_thread_url(thread))
    if not form.is_valid():
        return _thread_page(request, thread, answer_form=form, status=400)
    try:
        messaging.message_reply_by_agent(
            thread=thread, agent=request.user, body=form.cleaned_data["body"], now=timezone.now()
        )
    except messaging.ThreadClosed:
        messages.error(request, _("Cette conversation vient d'être close : la réponse n'est pas envoyée."))
        return redirect(_thread_url(thread))
    _record(request, action=AUDIT_THREAD_ANSWERED, thread=thread, detail="réponse envoyée")
    messages.success(
        request,
        _(
            "Votre réponse est envoyée. Si l'assuré a confirmé son adresse e-mail, un e-mail l'invite à la lire "
            "dans son compte."
        ),
    )
    return redirect(_thread_url(thread))


@agent_view
@require_POST
def thread_assign_view(request, thread_id):
    thread = _thread_or_404(thread_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return redirect(_thread_url(thread))
    if form.cleaned_data["attribution"] == InboxAssigned.ME:
        messaging.thread_assign(thread=thread, agent=request.user)
        _record(
            request,
            action=AUDIT_THREAD_ASSIGNED,
            thread=thread,
            detail=f"attribuée à {request.user.get_username()}",
        )
        messages.success(request, _("Cette conversation vous est attribuée."))
    else:
        messaging.thread_assign(thread=thread, agent=None)
        _record(request, action=AUDIT_THREAD_ASSIGNED, thread=thread, detail="attribution retirée")
        messages.success(request, _("Cette conversation n'est plus attribuée à personne."))
    return redirect(_thread_url(thread))


@agent_view
@require_http_methods(["GET", "POST"])
def thread_close_view(request, thread_id):
    """A confirmation page, then the closing (for good: the member can only start a new thread)."""
    thread = _thread_or_404(thread_id)
    if thread.is_closed:
        messages.info(request, _("Cette conversation est déjà close."))
        return redirect(_thread_url(thread))
    if request.method == "POST":
        messaging.thread_close(thread=thread, agent=request.user, now=timezone.now())
        _record(request, action=AUDIT_THREAD_CLOSED, thread=thread, detail="close")
        messages.success(request, _("La conversation est close. L'assuré ne peut plus y répondre."))
        return redirect(_thread_url(thread))
    _record(request, action=AUDIT_THREAD_OPENED, thread=thread, detail="confirmation de la clôture")
    return render(request, "backoffice/thread_close.html", {"thread": thread, "member": thread.member})


@agent_view
def thread_attachment_view(request, attachment_id):
    attachment = get_object_or_404(Attachment.objects.select_related("message__thread__member"), pk=attachment_id)
    response = attachment_response(attachment)
    _record(
        request,
        action=AUDIT_ATTACHMENT_DOWNLOADED,
        thread=attachment.message.thread,
        detail=f"pièce jointe n° {attachment.pk} téléchargée",
    )
    return response
