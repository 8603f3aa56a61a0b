"""Back-office reads: dashboard figures, member lookup, the member's file, the letter queue, the audit log."""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Min, Q
from django.utils import timezone

from portail.accounts.enums import ProvisionalCodeStatus
from portail.accounts.models import Account, ProvisionalCode, SecurityEvent
from portail.accounts.services import normalise_name
from portail.backoffice.models import AgentAccess
from portail.post.enums import LetterStatus
from portail.post.models import Letter, PrintBatch
from portail.registry.models import Member

WAITING_LETTER_STATUSES = [LetterStatus.QUEUED, LetterStatus.RENDERED]
MEMBER_PAGE_ROWS = 50


# --- Dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class Periods:
    today: int
    week: int
    month: int


def _periods(queryset, field: str, *, now: dt.datetime) -> Periods:
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    figures = queryset.aggregate(
        today=Count("pk", filter=Q(**{f"{field}__gte": start_of_day})),
        week=Count("pk", filter=Q(**{f"{field}__gte": now - dt.timedelta(days=7)})),
        month=Count("pk", filter=Q(**{f"{field}__gte": now - dt.timedelta(days=30)})),
    )
    return Periods(**figures)


def messaging_installed() -> bool:
    return apps.is_installed("portail.messaging")


def messages_waiting(*, now: dt.datetime) -> dict | None:
    """Threads waiting for the fund's answer and the oldest wait, or None when messaging is not installed."""
    if not messaging_installed():
        return None
    from portail.messaging.models import Thread

    figures = Thread.objects.waiting_for_fund().aggregate(count=Count("pk"), oldest=Min("last_message_at"))
    return {"count": figures["count"], "oldest": figures["oldest"]}


def dashboard_figures(*, now: dt.datetime) -> dict:
    letters = Letter.objects.filter(status__in=WAITING_LETTER_STATUSES).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return {
        "accounts_created": _periods(Account.objects.all(), "created_at", now=now),
        "codes_ordered": _periods(ProvisionalCode.objects.all(), "issued_at", now=now),
        "codes_used": _periods(ProvisionalCode.objects.filter(status=ProvisionalCodeStatus.USED), "ended_at", now=now),
        "letters_waiting": letters["count"],
        "letters_oldest": letters["oldest"],
        "messages": messages_waiting(now=now),
    }


# --- Member lookup and file ---------------------------------------------------------------


def members_by_name(*, last_name: str, birth_date: dt.date, limit: int = 50) -> list[Member]:
    """Members born that day whose family name matches, ignoring case, accents, hyphens and apostrophes;
    a typed name also matches one word of a compound name ("MARTIN" finds "MARTIN DUPONT")."""
    wanted = normalise_name(last_name)
    found = []
    for member in Member.objects.filter(birth_date=birth_date).order_by("last_name", "first_names", "pk"):
        name = normalise_name(member.last_name)
        if name == wanted or f" {wanted} " in f" {name} ":
            found.append(member)
            if len(found) >= limit:
                break
    return found


def member_file(*, member: Member, now: dt.datetime) -> dict:
    """What an agent sees of a member: never a code, an answer or a hash (the querysets leave them out)."""
    from portail.backoffice.services import member_lock_state

    accounts = list(
        Account.objects.filter(member=member)
        .only("pk", "status", "email", "email_verified_at", "created_at", "terminated_at", "is_demo", "member_id")
        .order_by("-created_at", "-pk")
    )
    return {
        "active_account": next((account for account in accounts if account.status == "active"), None),
        "accounts": accounts,
        "locked_until": member_lock_state(member=member, now=now),
        "codes": list(
            ProvisionalCode.objects.filter(member=member)
            .only("pk", "status", "issued_at", "expires_at", "ended_at", "failed_attempts", "member_id")
            .order_by("-issued_at", "-pk")[:MEMBER_PAGE_ROWS]
        ),
        "letters": list(
            Letter.objects.filter(member=member)
            .only("pk", "kind", "status", "created_at", "posted_at", "batch_id", "member_id")
            .order_by("-created_at", "-pk")[:MEMBER_PAGE_ROWS]
        ),
        "events": list(SecurityEvent.objects.filter(member=member).order_by("-created_at", "-pk")[:MEMBER_PAGE_ROWS]),
        "messaging_installed": messaging_installed(),
    }


# --- Letter queue ---------------------------------------------------------------------------


def letter_queue(*, waiting_limit: int = 200, batches_limit: int = 50) -> dict:
    by_status = dict(Letter.objects.values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    return {
        "counts": [(status, by_status.get(status.value, 0)) for status in LetterStatus],
        "to_print": Letter.objects.to_print().count(),
        "waiting": list(
            Letter.objects.filter(status__in=WAITING_LETTER_STATUSES)
            .only("pk", "kind", "status", "created_at", "rendered_at", "recipient_postal_code", "recipient_city")
            .order_by("created_at", "pk")[:waiting_limit]
        ),
        "waiting_count": sum(by_status.get(status.value, 0) for status in WAITING_LETTER_STATUSES),
        "batches": list(PrintBatch.objects.order_by("-created_at", "-pk")[:batches_limit]),
    }


# --- Audit log ---------------------------------------------------------------------------


def audit_entries(*, agent=None, member=None, date_from: dt.date | None = None, date_to: dt.date | None = None):
    """The audit log, newest first, filtered."""
    entries = AgentAccess.objects.with_related().order_by("-created_at", "-pk")
    if agent is not None:
        entries = entries.filter(agent=agent)
    if member is not None:
        entries = entries.filter(member=member)
    tz = timezone.get_current_timezone()
    if date_from is not None:
        entries = entries.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to is not None:
        entries = entries.filter(
            created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        )
    return entries
