"""The payment feed: the fund's claims system sends payments as JSON Lines (see docs/payment-feed.md).

Two ways in, one service: `manage.py import_payments FILE.jsonl` and the push API (`POST /api/paiements/`)
both call `payments_import()`. Lines are streamed and written in batches, so a file of any size runs in
constant memory. Each line is validated in full before anything is written: a bad line is rejected (line
number and reason) and the others still import. A payment is immutable once received: its id already in the
database means "déjà connu", and nothing is changed. A payment and its acts are written together or not at
all (one transaction per batch).

The systems allowed to push are `FeedSource` rows. Their token is a random 256-bit value
(`secrets.token_urlsafe(32)`) stored only as its SHA-256 hex digest: a random token of that size needs no
slow hash, and looking the digest up by index compares nothing secret in Python.
"""

import datetime
import functools
import hashlib
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portail.benefits.enums import ActNature, Payee
from portail.benefits.models import FeedSource, Payment, PaymentImportRun, PaymentLine
from portail.registry.importing import ImportProgress, Rejection
from portail.registry.models import REJECTIONS_STORED_MAX, Beneficiary, Member
from portail.registry.nir import Nir, NirError, parse_nir

DEFAULT_BATCH_SIZE = 2000
# A batch is also written when its acts reach this many times the batch size (payments with many acts).
ACTS_PER_BATCH_FACTOR = 10
ACTS_PER_PAYMENT_MAX = 500
# Reasons given for one line at most (a payment with 500 bad acts gets a readable rejection).
REASONS_PER_LINE_MAX = 10
# Attempts at writing one batch when a concurrent import inserted one of its ids first (PostgreSQL).
BATCH_ATTEMPTS = 3

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Upper bounds (exclusive) from the model fields: DecimalField(max_digits=10 or 8, decimal_places=2).
AMOUNT_LIMIT = Decimal("100000000")  # max_digits=10
DEDUCTION_LIMIT = Decimal("1000000")  # max_digits=8
RATE_MAX = Decimal("100")

EXTERNAL_ID_MAX_LENGTH = Payment._meta.get_field("external_id").max_length
PRACTITIONER_MAX_LENGTH = PaymentLine._meta.get_field("practitioner").max_length
LAST_NAME_MAX_LENGTH = Beneficiary._meta.get_field("last_name").max_length
FIRST_NAMES_MAX_LENGTH = Beneficiary._meta.get_field("first_names").max_length

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by errors="surrogateescape"
# Control characters and lone surrogates (from "\ud800" escapes): PostgreSQL refuses NUL and surrogates.
_FORBIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAME_SEPARATORS = re.compile(r"[\W_]+")
_SHOWN_MAX = 40
# Choices.values builds a new list on each access: read them once.
_NATURES = tuple(ActNature.values)
_PAYEES = tuple(Payee.values)

LABELS = {
    "id": gettext_lazy("référence du paiement"),
    "nir": gettext_lazy("NIR"),
    "beneficiary": gettext_lazy("bénéficiaire des soins"),
    "paid_on": gettext_lazy("date du paiement"),
    "amount": gettext_lazy("montant"),
    "payee": gettext_lazy("versé à"),
    "lines": gettext_lazy("actes"),
    "last_name": gettext_lazy("nom de famille"),
    "first_names": gettext_lazy("prénoms"),
    "birth_date": gettext_lazy("date de naissance"),
    "care_date": gettext_lazy("date des soins"),
    "nature": gettext_lazy("nature"),
    "practitioner": gettext_lazy("professionnel de santé"),
    "amount_charged": gettext_lazy("montant payé"),
    "base": gettext_lazy("base de remboursement"),
    "rate": gettext_lazy("taux"),
    "reimbursed": gettext_lazy("montant remboursé"),
    "flat_fee": gettext_lazy("participation forfaitaire"),
    "deductible": gettext_lazy("franchise"),
}


class PaymentRejected(Exception):
    """One line of the feed cannot be imported; `reasons` are French."""

    def __init__(self, reasons: list[str]):
        super().__init__(reasons)
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class BeneficiaryRef:
    """The beneficiary (ayant droit) a payment names, to be matched against the member's Beneficiary rows."""

    last_name: str
    first_names: str
    birth_date: datetime.date

    @property
    def key(self) -> tuple[str, str, datetime.date]:
        return name_key(self.last_name), name_key(self.first_names), self.birth_date


@dataclass(frozen=True, slots=True)
class ActData:
    care_date: datetime.date
    nature: str
    practitioner: str
    amount_charged: Decimal
    base: Decimal
    rate: Decimal
    reimbursed: Decimal
    flat_fee: Decimal
    deductible: Decimal


@dataclass(frozen=True, slots=True)
class PaymentData:
    """One validated payment of the feed."""

    external_id: str
    nir: Nir
    beneficiary: BeneficiaryRef | None
    paid_on: datetime.date
    amount: Decimal
    payee: str
    acts: tuple[ActData, ...]


def name_key(text: str) -> str:
    """A name reduced for matching: no accents, no case, hyphens and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _NAME_SEPARATORS.sub(" ", letters.casefold()).strip()


# Parsing: each helper returns the value, or None after appending its reason to `reasons`.

_MISSING = object()


def _shown(value) -> str:
    """A value from outside, safe to quote in a message: printable and at most 40 characters."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    text = "".join(character if character.isprintable() else "\ufffd" for character in text)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _field(data: dict, field: str, reasons: list[str]):
    if field in data:
        return data[field]
    reasons.append(_("champ « %(field)s » absent (%(label)s)") % {"field": field, "label": LABELS[field]})
    return _MISSING


def _text(data: dict, field: str, reasons: list[str], *, max_length: int, blank: bool = False) -> str | None:
    value = _field(data, field, reasons)
    if value is _MISSING:
        return None
    label = LABELS[field]
    if not isinstance(value, str):
        reasons.append(
            _("%(label)s « %(value)s » invalide : texte attendu") % {"label": label, "value": _shown(value)}
        )
    elif _FORBIDDEN_CHARACTERS.search(value):
        reasons.append(_("%(label)s : caractères de contrôle ou invalides") % {"label": label})
    elif not blank and not value.strip():
        reasons.append(_("%(label)s vide (champ « %(field)s »)") % {"label": label, "field": field})
    elif len(value) > max_length:
        reasons.append(
            _("%(label)s : %(length)d caractères, %(max)d au plus")
            % {"label": label, "length": len(value), "max": max_length}
        )
    else:
        return value
    return None


def _date(data: dict, field: str, reasons: list[str], *, latest: datetime.date) -> datetime.date | None:
    value = _field(data, field, reasons)
    if value is _MISSING:
        return None
    label = LABELS[field]
    day = None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        reasons.append(
            _("%(label)s « %(value)s » invalide, format attendu AAAA-MM-JJ") % {"label": label, "value": _shown(value)}
        )
    elif day > latest:
        reasons.append(_("%(label)s « %(value)s » dans le futur") % {"label": label, "value": value})
        day = None
    return day


def _decimal(value) -> Decimal | None:
    """A JSON number (parsed as Decimal) or a string with a decimal point; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return Decimal(value)
    return None


def _amount(
    data: dict, field: str, reasons: list[str], *, limit: Decimal, default: Decimal | None = None
) -> Decimal | None:
    """A sum of money: >= 0, 2 decimals at most, below `limit`."""
    if default is not None and field not in data:
        return default
    value = _field(data, field, reasons)
    if value is _MISSING:
        return None
    number = _decimal(value)
    if number is not None and 0 <= number < limit:
        rounded = number.quantize(CENT)
        if rounded == number:
            return rounded.copy_abs()  # copy_abs: "-0" is stored as 0.00
    values = {"label": LABELS[field], "value": _shown(value)}
    if number is None:
        reasons.append(_("%(label)s « %(value)s » invalide, nombre attendu avec un point décimal") % values)
    elif number < 0:
        reasons.append(_("%(label)s « %(value)s » invalide : nombre positif ou nul attendu") % values)
    elif number >= limit:
        reasons.append(_("%(label)s « %(value)s » invalide : %(max)s au plus") % {**values, "max": limit - CENT})
    else:
        reasons.append(_("%(label)s « %(value)s » invalide : 2 décimales au plus") % values)
    return None


def _rate(data: dict, reasons: list[str]) -> Decimal | None:
    value = _field(data, "rate", reasons)
    if value is _MISSING:
        return None
    number = _decimal(value)
    if number is None or not 0 <= number <= RATE_MAX or number != number.quantize(CENT):
        reasons.append(
            _("%(label)s « %(value)s » invalide : pourcentage de 0 à 100 attendu, 2 décimales au plus")
            % {"label": LABELS["rate"], "value": _shown(value)}
        )
        return None
    return number.quantize(CENT).copy_abs()


def _choice(data: dict, field: str, reasons: list[str], *, choices: tuple[str, ...]) -> str | None:
    value = _field(data, field, reasons)
    if value is _MISSING:
        return None
    if value.__class__ is str and value in choices:
        return value
    reasons.append(
        _("%(label)s « %(value)s » invalide, valeurs possibles : %(choices)s")
        % {"label": LABELS[field], "value": _shown(value), "choices": ", ".join(choices)}
    )
    return None


@functools.lru_cache(maxsize=4096)
def _nir_parse_cached(value: str) -> Nir:
    """parse_nir, remembered: a feed names the same members again and again (a Nir is immutable)."""
    return parse_nir(value)


def _nir(data: dict, reasons: list[str]) -> Nir | None:
    value = _field(data, "nir", reasons)
    if value is _MISSING:
        return None
    if not isinstance(value, str):  # never quote it: it may be a NIR written as a number
        reasons.append(_("NIR invalide : texte entre guillemets attendu"))
        return None
    try:
        return _nir_parse_cached(value)
    except NirError as error:
        reasons.append(_("NIR invalide : %(message)s") % {"message": error.messages[0]})
        return None


def _beneficiary(data: dict, reasons: list[str], *, today: datetime.date) -> BeneficiaryRef | None:
    value = data.get("beneficiary")  # absent means null: the member's own care
    if value is None:
        return None
    if not isinstance(value, dict):
        reasons.append(
            _("%(label)s « %(value)s » invalide : null ou objet {last_name, first_names, birth_date} attendu")
            % {"label": LABELS["beneficiary"], "value": _shown(value)}
        )
        return None
    found: list[str] = []
    last_name = _text(value, "last_name", found, max_length=LAST_NAME_MAX_LENGTH)
    first_names = _text(value, "first_names", found, max_length=FIRST_NAMES_MAX_LENGTH)
    birth_date = _date(value, "birth_date", found, latest=today)
    reasons.extend(
        _("%(label)s : %(reason)s") % {"label": LABELS["beneficiary"], "reason": reason} for reason in found
    )
    if found:
        return None
    return BeneficiaryRef(last_name=last_name, first_names=first_names, birth_date=birth_date)


def _act(value, *, index: int, paid_on: datetime.date | None, today: datetime.date, reasons: list[str]):
    found: list[str] = []
    if not isinstance(value, dict):
        found.append(_("objet JSON attendu, pas « %(value)s »") % {"value": _shown(value)})
    else:
        care_date = _date(value, "care_date", found, latest=today)
        if care_date and paid_on and care_date > paid_on:
            found.append(
                _("%(label)s « %(value)s » postérieure à la date du paiement")
                % {"label": LABELS["care_date"], "value": value["care_date"]}
            )
        act = ActData(
            care_date=care_date,
            nature=_choice(value, "nature", found, choices=_NATURES),
            practitioner=_text(value, "practitioner", found, max_length=PRACTITIONER_MAX_LENGTH, blank=True),
            amount_charged=_amount(value, "amount_charged", found, limit=AMOUNT_LIMIT),
            base=_amount(value, "base", found, limit=AMOUNT_LIMIT),
            rate=_rate(value, found),
            reimbursed=_amount(value, "reimbursed", found, limit=AMOUNT_LIMIT),
            flat_fee=_amount(value, "flat_fee", found, limit=DEDUCTION_LIMIT, default=ZERO),
            deductible=_amount(value, "deductible", found, limit=DEDUCTION_LIMIT, default=ZERO),
        )
    reasons.extend(_("acte %(index)d : %(reason)s") % {"index": index, "reason": reason} for reason in found)
    return None if found else act


def _acts(data: dict, reasons: list[str], *, paid_on, today) -> tuple[ActData, ...] | None:
    value = _field(data, "lines", reasons)
    if value is _MISSING:
        return None
    if not isinstance(value, list) or not value:
        reasons.append(
            _("%(label)s (champ « lines ») : liste d'au moins un acte attendue") % {"label": LABELS["lines"]}
        )
        return None
    if len(value) > ACTS_PER_PAYMENT_MAX:
        reasons.append(
            _("%(label)s : %(count)d actes, %(max)d au plus par paiement")
            % {"label": LABELS["lines"], "count": len(value), "max": ACTS_PER_PAYMENT_MAX}
        )
        return None
    acts = [
        _act(act, index=index, paid_on=paid_on, today=today, reasons=reasons) for index, act in enumerate(value, 1)
    ]
    return None if None in acts else tuple(acts)


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN, Infinity, -Infinity: not JSON


def _json_object(text: str) -> dict:
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise PaymentRejected(
            [
                _("JSON illisible (caractère %(position)d) : un objet JSON par ligne est attendu")
                % {"position": error.pos + 1}
            ]
        ) from None
    except (ValueError, RecursionError):  # NaN, a number of 5 000 digits, nesting deeper than Python's stack
        raise PaymentRejected([_("JSON illisible : un objet JSON par ligne est attendu")]) from None
    if not isinstance(data, dict):
        raise PaymentRejected([_("objet JSON {…} attendu, pas « %(value)s »") % {"value": _shown(data)}])
    return data


def payment_parse(*, text: str, today: datetime.date) -> PaymentData:
    """Validate one line of the feed; raise PaymentRejected with every reason found (French).

    Checks the form of every field, and that `amount` equals the sum over the acts of
    `reimbursed - flat_fee - deductible`. Whether the member and beneficiary exist is checked when the
    batch is written (it needs the database).
    """
    if _NOT_UTF8.search(text):
        raise PaymentRejected([_("caractères qui ne sont pas en UTF-8 (enregistrez le fichier en UTF-8)")])
    data = _json_object(text)
    reasons: list[str] = []
    external_id = _text(data, "id", reasons, max_length=EXTERNAL_ID_MAX_LENGTH)
    nir = _nir(data, reasons)
    beneficiary = _beneficiary(data, reasons, today=today)
    paid_on = _date(data, "paid_on", reasons, latest=today)
    amount = _amount(data, "amount", reasons, limit=AMOUNT_LIMIT)
    payee = _choice(data, "payee", reasons, choices=_PAYEES)
    acts = _acts(data, reasons, paid_on=paid_on, today=today)
    if amount is not None and acts is not None:
        total = sum((act.reimbursed - act.flat_fee - act.deductible for act in acts), ZERO)
        if total != amount:
            reasons.append(
                _(
                    "montant %(amount)s différent du total des actes (montants remboursés moins participations "
                    "forfaitaires et franchises) : %(total)s"
                )
                % {"amount": amount, "total": total}
            )
    if reasons:
        if len(reasons) > REASONS_PER_LINE_MAX:
            more = len(reasons) - REASONS_PER_LINE_MAX
            reasons = [
                *reasons[:REASONS_PER_LINE_MAX],
                ngettext("et %(count)d autre problème", "et %(count)d autres problèmes", more) % {"count": more},
            ]
        raise PaymentRejected(reasons)
    return PaymentData(
        external_id=external_id,
        nir=nir,
        beneficiary=beneficiary,
        paid_on=paid_on,
        amount=amount,
        payee=payee,
        acts=acts,
    )


# Writing.

type Entry = tuple[int, PaymentData | list[str]]  # (line number, payment or reasons of its rejection)


@dataclass
class _BatchOutcome:
    created: int
    already_known: int
    rejections: list[tuple[int, list[str]]]


def _batch_write(payments: list[tuple[int, PaymentData]]) -> _BatchOutcome:
    """Write one batch in a constant number of queries; the caller wraps it in a transaction.

    One query for the ids already known, one for the members by NIR, one for their beneficiaries (when a
    payment names one), then `_payments_insert` (three queries).
    """
    known = set(
        Payment.objects.filter(external_id__in={payment.external_id for _, payment in payments}).values_list(
            "external_id", flat=True
        )
    )
    new = [payment for _, payment in payments if payment.external_id not in known]
    members = dict(Member.objects.filter(nir__in={payment.nir.number for payment in new}).values_list("nir", "pk"))
    wanted = {members.get(payment.nir.number) for payment in new if payment.beneficiary} - {None}
    beneficiaries: dict[tuple, int] = {}
    if wanted:
        rows = Beneficiary.objects.filter(member_id__in=wanted).values_list(
            "pk", "member_id", "last_name", "first_names", "birth_date"
        )
        for pk, member_id, last_name, first_names, birth_date in rows:
            beneficiaries.setdefault((member_id, name_key(last_name), name_key(first_names), birth_date), pk)

    outcome = _BatchOutcome(created=0, already_known=0, rejections=[])
    accepted: dict[str, tuple[PaymentData, int, int | None]] = {}
    for line, payment in payments:
        if payment.external_id in known or payment.external_id in accepted:
            outcome.already_known += 1
            continue
        member_id = members.get(payment.nir.number)
        if member_id is None:
            outcome.rejections.append(
                (line, [_("aucun assuré n'a le NIR %(nir)s dans le registre") % {"nir": payment.nir.masked}])
            )
            continue
        beneficiary_id = None
        if payment.beneficiary:
            beneficiary_id = beneficiaries.get((member_id, *payment.beneficiary.key))
            if beneficiary_id is None:
                outcome.rejections.append(
                    (
                        line,
                        [
                            _(
                                "bénéficiaire des soins inconnu : aucun ayant droit de l'assuré %(nir)s n'a ces nom, "
                                "prénoms et date de naissance"
                            )
                            % {"nir": payment.nir.masked}
                        ],
                    )
                )
                continue
        accepted[payment.external_id] = (payment, member_id, beneficiary_id)

    if accepted:
        _payments_insert(list(accepted.values()))
    outcome.created = len(accepted)
    return outcome


def _insert_statement(model, columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    # Identifiers come from the model and are quoted; every value is a query parameter.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


_PAYMENT_COLUMNS = ("external_id", "member_id", "beneficiary_id", "paid_on", "amount", "payee", "received_at")
_ACT_COLUMNS = (
    "payment_id",
    "care_date",
    "nature",
    "practitioner",
    "amount_charged",
    "base",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
)


def _payments_insert(accepted: list[tuple[PaymentData, int, int | None]]) -> None:
    """INSERT the payments (one executemany), read their ids back (one SELECT), INSERT their acts (one
    executemany).

    Measured (bench/bench_payment_import.py): bulk_create spent 3 s of an 8 s import of 5 000 payments
    building SQL value by value; this writes the same rows in a tenth of that. Values go through the
    backend's own adapters, as the ORM does.
    """
    ops = connection.ops
    date, money = ops.adapt_datefield_value, ops.adapt_decimalfield_value
    now = ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            _insert_statement(Payment, _PAYMENT_COLUMNS),
            [
                (
                    payment.external_id,
                    member_id,
                    beneficiary_id,
                    date(payment.paid_on),
                    money(payment.amount),
                    payment.payee,
                    now,
                )
                for payment, member_id, beneficiary_id in accepted
            ],
        )
        ids = dict(
            Payment.objects.filter(external_id__in=[payment.external_id for payment, _, _ in accepted]).values_list(
                "external_id", "pk"
            )
        )
        cursor.executemany(
            _insert_statement(PaymentLine, _ACT_COLUMNS),
            [
                (
                    ids[payment.external_id],
                    date(act.care_date),
                    act.nature,
                    act.practitioner,
                    money(act.amount_charged),
                    money(act.base),
                    money(act.rate),
                    money(act.reimbursed),
                    money(act.flat_fee),
                    money(act.deductible),
                )
                for payment, _, _ in accepted
                for act in payment.acts
            ],
        )


def _batch_write_atomic(payments: list[tuple[int, PaymentData]]) -> _BatchOutcome:
    """`_batch_write` in a transaction (a savepoint inside a request), retried when a concurrent import
    inserted one of the batch's ids between our read and our insert (PostgreSQL, READ COMMITTED)."""
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _batch_write(payments)
        except IntegrityError:
            if attempt == BATCH_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def payments_import(
    *,
    lines: Iterable[str],
    source: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportProgress], None] | None = None,
    on_rejection: Callable[[Rejection], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    progress_interval: float = 1.0,
) -> PaymentImportRun:
    """Import the feed's `lines` (one JSON payment each; blank lines skipped) and record the run.

    `source` names the file or the pushing system. Line numbers count every line, blank ones included.
    `on_progress` is called at most once per `progress_interval` seconds; `on_rejection` once per bad line,
    in line order, as each batch is written. Each batch is written in its own transaction.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = PaymentImportRun.objects.create(
        source=source[: PaymentImportRun._meta.get_field("source").max_length], started_at=timezone.now()
    )
    today = timezone.localdate()
    entries: list[Entry] = []
    acts_in_batch = 0
    acts_max = batch_size * ACTS_PER_BATCH_FACTOR
    started = last_progress = clock()

    def reject(line: int, reasons: list[str]) -> None:
        rejection = Rejection(
            line=line, reason=_("ligne %(line)d : %(reasons)s") % {"line": line, "reasons": " ; ".join(reasons)}
        )
        run.rejected_count += 1
        if len(run.rejections) < REJECTIONS_STORED_MAX:
            run.rejections.append({"line": rejection.line, "reason": rejection.reason})
        if on_rejection:
            on_rejection(rejection)

    def flush() -> None:
        nonlocal acts_in_batch
        if not entries:
            return
        payments = [(line, item) for line, item in entries if isinstance(item, PaymentData)]
        rejections = [(line, item) for line, item in entries if not isinstance(item, PaymentData)]
        if payments:
            outcome = _batch_write_atomic(payments)
            run.created_count += outcome.created
            run.unchanged_count += outcome.already_known
            rejections = sorted(rejections + outcome.rejections, key=lambda rejected: rejected[0])
        for line, reasons in rejections:
            reject(line, reasons)
        entries.clear()
        acts_in_batch = 0
        run.save()

    try:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            run.lines_read += 1
            try:
                payment = payment_parse(text=text, today=today)
            except PaymentRejected as rejected:
                entries.append((number, rejected.reasons))
            else:
                entries.append((number, payment))
                acts_in_batch += len(payment.acts)
            if len(entries) >= batch_size or acts_in_batch >= acts_max:
                flush()
            if on_progress and clock() - last_progress >= progress_interval:
                last_progress = clock()
                on_progress(ImportProgress(rows_read=run.lines_read, elapsed=last_progress - started))
        flush()
    except OSError:
        run.save()  # what was written so far; finished_at stays empty
        raise
    run.finished_at = timezone.now()
    run.save()
    return run


def payment_import_summary(run: PaymentImportRun) -> str:
    """The final line: "créés : N, déjà connus : N, rejetés : N"."""
    return _("créés : %(created)d, déjà connus : %(known)d, rejetés : %(rejected)d") % {
        "created": run.created_count,
        "known": run.unchanged_count,
        "rejected": run.rejected_count,
    }


# The systems allowed to push payments.


def feed_token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, in hexadecimal."""
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_generate() -> tuple[str, str]:
    """A new token (43 URL-safe characters, 256 random bits) and its digest."""
    token = secrets.token_urlsafe(32)
    return token, feed_token_digest(token)


@transaction.atomic
def feed_source_create(*, name: str) -> tuple[FeedSource, str]:
    """A new sending system and its token, returned once: only its digest is stored."""
    token, digest = feed_token_generate()
    return FeedSource.objects.create(name=name, token_hash=digest), token


@transaction.atomic
def feed_source_token_renew(*, source: FeedSource) -> str:
    """Replace the source's token (the old one stops working at once) and lift a revocation."""
    token, source.token_hash = feed_token_generate()
    source.revoked_at = None
    source.save(update_fields=["token_hash", "revoked_at"])
    return token


@transaction.atomic
def feed_source_revoke(*, source: FeedSource, now: datetime.datetime | None = None) -> bool:
    """Refuse the source's token from now on. False when it was already revoked (nothing changes)."""
    if source.revoked_at is not None:
        return False
    source.revoked_at = now or timezone.now()
    source.save(update_fields=["revoked_at"])
    return True


def feed_source_authenticate(*, authorization: str | None) -> FeedSource | None:
    """The active source whose token the `Authorization: Bearer <token>` header carries, else None."""
    scheme, _separator, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return FeedSource.objects.filter(token_hash=feed_token_digest(token), revoked_at__isnull=True).first()
