"""Monthly statements: closing a month, reading a statement, paper duplicates.

A statement (relevé mensuel) lists every payment of one month to one member.
It is built once the month is over (`statements_close_month`, run by the
`scheduler` process or by `manage.py close_month`), read online as an HTML page
and a PDF, and sent on paper when the member has no active account or has
their statements sent to a complementary insurer. A member may ask for a paper
duplicate of any statement still online.
"""

import datetime as dt
import functools
import logging
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portail.accounts.models import Account
from portail.benefits.enums import StatementDelivery
from portail.benefits.models import (
    DuplicateRequest,
    Payment,
    PaymentLine,
    Statement,
    StatementQuerySet,
    month_start,
    months_before,
)
from portail.benefits.templatetags.money import format_money
from portail.post.enums import EmailKind, LetterKind
from portail.post.services import email_enqueue, letter_enqueue
from portail.registry.models import Member

logger = logging.getLogger(__name__)

CLOSE_BATCH_SIZE = 1000
DUPLICATE_WINDOW = dt.timedelta(days=30)
# How long a paper letter takes to arrive, as the screens and documents say it.
POSTAL_DELAY_TEXT = gettext_lazy("sous 7 à 12 jours")
# Bump when the PDF layout changes, so that cached sizes are recomputed.
PDF_LAYOUT_VERSION = 1
PDF_SIZE_CACHE_SECONDS = 90 * 24 * 3600


# Months ----------------------------------------------------------------------


def month_label(month: dt.date) -> str:
    """ "mars 2026" (in the active language)."""
    return _month_label_in(month, translation.get_language())


@functools.lru_cache(maxsize=256)
def _month_label_in(month: dt.date, language: str) -> str:
    # Kept per process: a payments page shows 26 of them, the same every time.
    return formats.date_format(month, "F Y")


def month_code(month: dt.date) -> str:
    """ "2026-03": in letter contexts and file names."""
    return f"{month:%Y-%m}"


def statements_keep_since(*, today: dt.date) -> dt.date:
    """The oldest month still online: PORTAIL_STATEMENTS_KEEP_MONTHS full months before the current one."""
    return months_before(today, settings.PORTAIL_STATEMENTS_KEEP_MONTHS)


def statements_online(*, member, today: dt.date) -> StatementQuerySet:
    """The member's statements still online, newest first. Every statement page looks statements up here."""
    return (
        Statement.objects.for_member(member).filter(month__gte=statements_keep_since(today=today)).order_by("-month")
    )


# Closing a month ---------------------------------------------------------------


class MonthNotOver(ValueError):
    """Only a month that is over can be closed."""


@dataclass(frozen=True)
class CloseResult:
    month: dt.date
    members_with_payments: int = 0
    statements_created: int = 0
    already_closed: int = 0
    letters: int = 0
    emails: int = 0

    def summary(self) -> str:
        """One line in French, for the commands' output and the logs."""
        return _(
            "Relevés de %(month)s : %(members)d assurés avec des paiements, %(created)d relevés établis "
            "(%(letters)d par courrier, %(emails)d e-mails envoyés), %(existing)d déjà établis."
        ) % {
            "month": month_label(self.month),
            "members": self.members_with_payments,
            "created": self.statements_created,
            "letters": self.letters,
            "emails": self.emails,
            "existing": self.already_closed,
        }


def _statement_email(*, statement: Statement, to: str) -> None:
    """Tell the member a statement is online: the month and a link, never an amount or a NIR."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "month": month_label(statement.month),
            "link": f"{settings.PORTAIL_BASE_URL}{reverse('benefits:statements')}",
            "fund_name": settings.PORTAIL_FUND_NAME,
        }
        subject = _("Votre relevé de %(month)s est disponible – Portail assuré") % {"month": context["month"]}
        body = render_to_string("benefits/statement_available_email.txt", context)
    email_enqueue(to=to, subject=subject, body=body, kind=EmailKind.STATEMENT_AVAILABLE, member=statement.member)


def _close_batch(*, month: dt.date, rows: list[dict]) -> CloseResult:
    """Create the missing statements of one batch of members, with their letters and e-mails, atomically.

    Raises IntegrityError when another run created one of them meanwhile (the caller retries the batch).
    """
    member_ids = [row["member_id"] for row in rows]
    with transaction.atomic():
        existing = set(
            Statement.objects.filter(month=month, member_id__in=member_ids).values_list("member_id", flat=True)
        )
        new_rows = [row for row in rows if row["member_id"] not in existing]
        if not new_rows:
            return CloseResult(month=month, members_with_payments=len(rows), already_closed=len(existing))
        new_ids = [row["member_id"] for row in new_rows]
        members = Member.objects.in_bulk(new_ids)
        accounts = {
            account.member_id: account
            for account in Account.objects.active()
            .filter(member_id__in=new_ids)
            .only("member_id", "email", "email_verified_at")
        }

        statements = []
        for row in new_rows:
            member = members[row["member_id"]]
            on_paper = row["member_id"] not in accounts or member.statements_to_complementary
            statements.append(
                Statement(
                    member=member,
                    month=month,
                    delivery=StatementDelivery.POST if on_paper else StatementDelivery.ONLINE,
                    payment_count=row["payment_count"],
                    total_paid=row["total_paid"],
                )
            )
        Statement.objects.bulk_create(statements, batch_size=CLOSE_BATCH_SIZE)
        if any(statement.pk is None for statement in statements):  # a backend that gives no ids back
            by_member = dict(
                Statement.objects.filter(month=month, member_id__in=new_ids).values_list("member_id", "pk")
            )
            for statement in statements:
                statement.pk = by_member[statement.member_id]

        letters = emails = 0
        with_letter = []
        for statement in statements:
            if statement.delivery == StatementDelivery.POST:
                statement.letter = letter_enqueue(
                    member=statement.member,
                    kind=LetterKind.MONTHLY_STATEMENT,
                    context={"statement_id": statement.pk, "month": month_code(month)},
                )
                with_letter.append(statement)
                letters += 1
            else:
                account = accounts[statement.member_id]
                if account.email_verified:
                    _statement_email(statement=statement, to=account.email)
                    emails += 1
        Statement.objects.bulk_update(with_letter, ["letter"], batch_size=CLOSE_BATCH_SIZE)
    return CloseResult(
        month=month,
        members_with_payments=len(rows),
        statements_created=len(statements),
        already_closed=len(existing),
        letters=letters,
        emails=emails,
    )


def statements_close_month(*, month: dt.date, now: dt.datetime, batch_size: int = CLOSE_BATCH_SIZE) -> CloseResult:
    """Build the statement of every member paid during `month` (any day of it), once.

    Members come in batches of `batch_size`, in member id order, from one aggregate query per batch
    (payments of the month grouped by member); each batch is one transaction. Running it again, or
    after an interruption, creates only what is missing and sends nothing twice (the (member, month)
    unique constraint backs this up when two runs overlap). Refuses the current month and any later one.
    """
    month = month_start(month)
    if month >= month_start(timezone.localdate(now)):
        raise MonthNotOver(f"The month {month_code(month)} is not over yet.")

    monthly = (
        Payment.objects.in_month(month)
        .values("member_id")
        .annotate(payment_count=Count("pk"), total_paid=Sum("amount"))
        .order_by("member_id")
    )
    result = CloseResult(month=month)
    last_member_id = 0
    while True:
        rows = list(monthly.filter(member_id__gt=last_member_id)[:batch_size])
        if not rows:
            break
        for attempt in range(3):
            try:
                batch = _close_batch(month=month, rows=rows)
                break
            except IntegrityError:  # another run closed part of this batch meanwhile: look again
                if attempt == 2:
                    raise
        result = CloseResult(
            month=month,
            members_with_payments=result.members_with_payments + batch.members_with_payments,
            statements_created=result.statements_created + batch.statements_created,
            already_closed=result.already_closed + batch.already_closed,
            letters=result.letters + batch.letters,
            emails=result.emails + batch.emails,
        )
        last_member_id = rows[-1]["member_id"]
    logger.info(
        "Month %s closed: %s statement(s) created, %s letter(s), %s e-mail(s), %s already there.",
        month_code(month),
        result.statements_created,
        result.letters,
        result.emails,
        result.already_closed,
    )
    return result


def month_to_close(*, now: dt.datetime) -> dt.date:
    """The month the scheduler closes: the previous one."""
    return months_before(timezone.localdate(now), 1)


# Reading a statement --------------------------------------------------------------

# The columns of the statement table, shared by the HTML page and the PDF: (label, is a number).
COLUMNS = (
    (gettext_lazy("Date des soins"), False),
    (gettext_lazy("Nature de l'acte"), False),
    (gettext_lazy("Professionnel de santé"), False),
    (gettext_lazy("Montant payé"), True),
    (gettext_lazy("Base de remboursement"), True),
    (gettext_lazy("Taux"), True),
    (gettext_lazy("Montant remboursé"), True),
    (gettext_lazy("Déductions"), True),
)


@dataclass(frozen=True)
class PaymentGroup:
    """One payment of the statement and its acts, with the words both the page and the PDF print."""

    payment: Payment
    lines: list[PaymentLine]
    beneficiary: str
    payee: str

    @property
    def caption(self) -> str:
        return _("Paiement du %(date)s : %(amount)s versés à : %(payee)s – soins de : %(beneficiary)s") % {
            "date": f"{self.payment.paid_on:%d/%m/%Y}",
            "amount": format_money(self.payment.amount),
            "payee": self.payee,
            "beneficiary": self.beneficiary,
        }


@dataclass(frozen=True)
class StatementDetail:
    """Everything a statement shows, read in a fixed number of queries."""

    statement: Statement
    member: Member
    groups: list[PaymentGroup]
    total_charged: Decimal = Decimal("0.00")
    total_reimbursed: Decimal = Decimal("0.00")
    total_deductions: Decimal = Decimal("0.00")
    total_paid: Decimal = Decimal("0.00")
    columns: tuple = field(default=COLUMNS)

    @property
    def month_label(self) -> str:
        return month_label(self.statement.month)

    @property
    def period_end(self) -> dt.date:
        return months_before(self.statement.month, -1) - dt.timedelta(days=1)

    @property
    def member_name(self) -> str:
        first_name = self.member.first_names.replace(",", " ").split()[0] if self.member.first_names.strip() else ""
        return " ".join(part for part in (first_name, self.member.last_name.upper()) if part)

    @property
    def address_lines(self) -> list[str]:
        """The member's postal address as the register has it, La Poste style."""
        member = self.member
        lines = [self.member_name, member.address_line1, member.address_line2]
        lines.append(f"{member.postal_code} {member.city.upper()}")
        return [line for line in lines if line.strip()]

    @property
    def total_paid_label(self) -> str:
        count = len(self.groups)
        return ngettext(
            "Total versé en %(month)s (%(count)d paiement)", "Total versé en %(month)s (%(count)d paiements)", count
        ) % {"month": self.month_label, "count": count}

    @property
    def summary_line(self) -> str:
        """ "Paiements du 01/03/2026 au 31/03/2026 : 3 paiements, 123,45 € versés au total." """
        count = len(self.groups)
        return ngettext(
            "Paiements du %(start)s au %(end)s : %(count)d paiement, %(total)s versés au total.",
            "Paiements du %(start)s au %(end)s : %(count)d paiements, %(total)s versés au total.",
            count,
        ) % {
            "start": f"{self.statement.month:%d/%m/%Y}",
            "end": f"{self.period_end:%d/%m/%Y}",
            "count": count,
            "total": format_money(self.total_paid),
        }

    @property
    def file_name(self) -> str:
        return f"releve-{month_code(self.statement.month)}.pdf"


def statement_detail(*, statement: Statement) -> StatementDetail:
    """The statement's payments (oldest first) with their acts: three queries, whatever their number."""
    member = statement.member  # one query unless already loaded
    payments = list(
        Payment.objects.for_member(statement.member_id)
        .in_month(statement.month)
        .with_lines()
        .order_by("paid_on", "pk")
    )
    own_name = " ".join(part for part in (member.first_names, member.last_name) if part)
    groups = []
    totals = {"charged": Decimal("0.00"), "reimbursed": Decimal("0.00"), "deductions": Decimal("0.00")}
    for payment in payments:
        lines = list(payment.lines.all())
        for line in lines:
            totals["charged"] += line.amount_charged
            totals["reimbursed"] += line.reimbursed
            totals["deductions"] += line.deductions
        beneficiary = payment.beneficiary
        groups.append(
            PaymentGroup(
                payment=payment,
                lines=lines,
                beneficiary=f"{beneficiary.first_names} {beneficiary.last_name}" if beneficiary else own_name,
                payee=payment.get_payee_display(),
            )
        )
    return StatementDetail(
        statement=statement,
        member=member,
        groups=groups,
        total_charged=totals["charged"],
        total_reimbursed=totals["reimbursed"],
        total_deductions=totals["deductions"],
        total_paid=sum((payment.amount for payment in payments), Decimal("0.00")),
    )


def statement_pdf_bytes(*, detail: StatementDetail) -> bytes:
    """The downloadable PDF (addressed to the member as the register has it). Its size is cached."""
    from portail.benefits.statement_pdf import statement_pdf_render

    pdf = statement_pdf_render(detail=detail, address_lines=detail.address_lines).data
    cache.set(_pdf_size_key(detail.statement), len(pdf), PDF_SIZE_CACHE_SECONDS)
    return pdf


def _pdf_size_key(statement: Statement) -> str:
    return f"statement-pdf-size:{PDF_LAYOUT_VERSION}:{statement.pk}:{statement.payment_count}:{statement.total_paid}"


def _kilobytes(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def statement_pdf_kilobytes(*, statements: list[Statement]) -> dict[int, int]:
    """Each statement's PDF size in Ko (rounded up), for the list: drawn once, then cached."""
    sizes = cache.get_many([_pdf_size_key(statement) for statement in statements])
    kilobytes = {}
    for statement in statements:
        size = sizes.get(_pdf_size_key(statement))
        if size is None:
            size = len(statement_pdf_bytes(detail=statement_detail(statement=statement)))
        kilobytes[statement.pk] = _kilobytes(size)
    return kilobytes


def statement_detail_pdf_kilobytes(*, detail: StatementDetail) -> int:
    """The PDF size in Ko of a statement already read (no query): cached, or drawn from `detail`."""
    size = cache.get(_pdf_size_key(detail.statement))
    if size is None:
        size = len(statement_pdf_bytes(detail=detail))
    return _kilobytes(size)


# Paper duplicates ------------------------------------------------------------------


class DuplicateLimitReached(Exception):
    """Too many duplicates in 30 days: a polite "not before" date, never a refusal for good."""

    def __init__(self, available_on: dt.date):
        super().__init__(f"Duplicate limit reached; possible again on {available_on:%Y-%m-%d}.")
        self.available_on = available_on


def statement_duplicate_request(*, statement: Statement, now: dt.datetime) -> DuplicateRequest:
    """Send a paper duplicate of `statement` to the member's address on file.

    Only an abusive pace is stopped: past PORTAIL_DUPLICATES_PER_30_DAYS requests by this member in the
    last 30 days, DuplicateLimitReached says from which day another one can be asked for.
    """
    limit = settings.PORTAIL_DUPLICATES_PER_30_DAYS
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=statement.member_id)  # one request at a time
        recent = list(
            DuplicateRequest.objects.filter(statement__member_id=member.pk, requested_at__gt=now - DUPLICATE_WINDOW)
            .order_by("-requested_at")
            .values_list("requested_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            raise DuplicateLimitReached(available_on=timezone.localdate(recent[-1] + DUPLICATE_WINDOW))
        letter = letter_enqueue(
            member=member,
            kind=LetterKind.STATEMENT_DUPLICATE,
            context={"statement_id": statement.pk, "month": month_code(statement.month)},
        )
        return DuplicateRequest.objects.create(statement=statement, letter=letter)
