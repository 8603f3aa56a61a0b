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
from typing import Annotated, Any, Literal

import msgspec
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portail.benefits.enums import ActNature, Payee
from portail.benefits.models import ACT_FIELDS, FeedSource, Payment, PaymentImportRun, PaymentLine
from portail.registry.importing import ImportProgress, Rejection, parse_iso_date
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


_day = functools.lru_cache(maxsize=10_000)(parse_iso_date)  # remembered: a feed names few distinct days


def _date(data: dict, field: str, reasons: list[str], *, latest: datetime.date) -> datetime.date | None:
    value = _field(data, field, reasons)
    if value is _MISSING:
        return None
    label = LABELS[field]
    day = _day(value) if isinstance(value, str) else None
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


# What the batch writer takes, from the fast path below or from payment_parse().


class ActRow(msgspec.Struct):
    """An act ready to write, its fields in _ACT_COLUMNS order after the payment id: the fast path decodes
    the feed's acts straight into it (so its field names are the feed's keys), payment_parse()'s are
    converted. Dates are "AAAA-MM-JJ"; amounts are the valid text, int or Decimal received ("5" and 5.00 are
    stored alike)."""

    care_date: str
    nature: Literal[_NATURES]
    practitioner: Annotated[str, msgspec.Meta(max_length=PRACTITIONER_MAX_LENGTH)]
    # A string, an int, or a Decimal for a JSON number with a fraction (float_hook below), as
    # json.loads(parse_float=Decimal) reads them.
    amount_charged: Any
    base: Any
    rate: Any
    reimbursed: Any
    flat_fee: Any = "0.00"
    deductible: Any = "0.00"


@dataclass(slots=True)
class PaymentRow:
    """A valid line, as the batch writer needs it (values as in ActRow)."""

    external_id: str
    nir: Nir
    beneficiary: BeneficiaryRef | None
    paid_on: str
    amount: str | int | Decimal
    payee: str
    acts: list[ActRow]


def _payment_row(payment: PaymentData) -> PaymentRow:
    """A payment validated by payment_parse(), as the batch writer needs it."""
    return PaymentRow(
        payment.external_id,
        payment.nir,
        payment.beneficiary,
        payment.paid_on.isoformat(),
        payment.amount,
        payment.payee,
        [
            ActRow(
                care_date=act.care_date.isoformat(),
                nature=act.nature,
                practitioner=act.practitioner,
                amount_charged=act.amount_charged,
                base=act.base,
                rate=act.rate,
                reimbursed=act.reimbursed,
                flat_fee=act.flat_fee,
                deductible=act.deductible,
            )
            for act in payment.acts
        ],
    )


# The fast path. Most lines of a feed are in the usual form: a compiled decoder (msgspec) reads and types
# them in one pass, a few checks in C (one regular expression for the six amounts of an act) do the rest, and
# the acts decoded are the rows written. Whatever it does not accept in full, it leaves to payment_parse(),
# which accepts it too or gives every reason in French: the fast path never accepts a line that
# payment_parse() would reject, and gives the same values (test_feed.py checks both on random input).


def _amount_pattern(limit: Decimal) -> str:
    """A sum of money below `limit` (a power of ten), 2 decimals at most, without sign or leading zero."""
    digits = len(str(int(limit))) - 1
    assert limit == 10**digits, limit
    return rf"(?:0|[1-9][0-9]{{0,{digits - 1}}}+)(?:\.[0-9]{{1,2}}+)?+"


_FAST_RATE = r"(?:100(?:\.0{1,2}+)?+|(?:0|[1-9][0-9]?+)(?:\.[0-9]{1,2}+)?+)"  # 0 to RATE_MAX
_FAST_AMOUNT = re.compile(_amount_pattern(AMOUNT_LIMIT)).fullmatch
# amount_charged, base, rate, reimbursed, flat_fee and deductible of an act, joined by \x1f: six numbers
# exactly, so a value holding a \x1f cannot match.
_FAST_ACT_AMOUNTS = re.compile(
    "\x1f".join(
        [_amount_pattern(AMOUNT_LIMIT)] * 2
        + [_FAST_RATE, _amount_pattern(AMOUNT_LIMIT)]
        + [_amount_pattern(DEDUCTION_LIMIT)] * 2
    )
).fullmatch
# The Decimal of each amount already checked (text, int or Decimal), remembered: deductions and rates take
# few values.
_fast_decimal = functools.lru_cache(maxsize=10_000)(Decimal)


class _FastBeneficiary(msgspec.Struct):
    last_name: Annotated[str, msgspec.Meta(max_length=LAST_NAME_MAX_LENGTH)]
    first_names: Annotated[str, msgspec.Meta(max_length=FIRST_NAMES_MAX_LENGTH)]
    birth_date: str


class _FastPayment(msgspec.Struct):
    id: Annotated[str, msgspec.Meta(max_length=EXTERNAL_ID_MAX_LENGTH)]
    nir: str
    paid_on: str
    amount: Any
    payee: Literal[_PAYEES]
    lines: Annotated[list[ActRow], msgspec.Meta(min_length=1, max_length=ACTS_PER_PAYMENT_MAX)]
    beneficiary: _FastBeneficiary | None = None


# Unknown keys are skipped and the last of duplicate keys wins, as with json.loads.
_fast_decode = msgspec.json.Decoder(_FastPayment, float_hook=Decimal).decode


def _fast_text(value: str) -> bool:
    """What _text() accepts, or less (the decoder checks the length). Printable text has none of
    _FORBIDDEN_CHARACTERS (control characters and surrogates are not printable), and is checked faster."""
    return value.isprintable() and value.strip() != ""


def _fast_reader(today: datetime.date) -> Callable[[str], PaymentRow | None]:
    """The fast path, for one import: a function giving a line's PaymentRow, or None when the line is not
    in the usual form or not valid (payment_parse() then accepts it or says why)."""
    today_text = today.isoformat()  # "AAAA-MM-JJ" texts compare as their dates do

    def read(text: str) -> PaymentRow | None:
        try:
            data = _fast_decode(text)
        except (msgspec.DecodeError, UnicodeEncodeError):  # not in the usual form; bytes that were not UTF-8
            return None
        paid_on = data.paid_on
        if _day(paid_on) is None or paid_on > today_text or not _fast_text(data.id):
            return None
        total = ZERO
        for act in data.lines:
            care_date = act.care_date
            if (
                _day(care_date) is None
                or care_date > paid_on
                or not act.practitioner.isprintable()  # may be empty; see _fast_text()
                or not _FAST_ACT_AMOUNTS(
                    f"{act.amount_charged}\x1f{act.base}\x1f{act.rate}\x1f{act.reimbursed}\x1f{act.flat_fee}"
                    f"\x1f{act.deductible}"
                )
            ):
                return None
            # The six amounts are checked: text, int or Decimal, all hashable.
            total += _fast_decimal(act.reimbursed) - _fast_decimal(act.flat_fee) - _fast_decimal(act.deductible)
        if not _FAST_AMOUNT(f"{data.amount}") or total != Decimal(data.amount):
            return None
        beneficiary = data.beneficiary
        if beneficiary is not None:
            birth_date = _day(beneficiary.birth_date)
            if (
                birth_date is None
                or birth_date > today
                or not _fast_text(beneficiary.last_name)
                or not _fast_text(beneficiary.first_names)
            ):
                return None
            beneficiary = BeneficiaryRef(beneficiary.last_name, beneficiary.first_names, birth_date)
        try:
            nir = _nir_parse_cached(data.nir)
        except NirError:
            return None
        return PaymentRow(data.id, nir, beneficiary, paid_on, data.amount, data.payee, data.lines)

    return read


# Writing.

type Entry = tuple[int, PaymentRow | list[str]]  # (line number, payment or reasons of its rejection)


@dataclass
class _BatchOutcome:
    created: int
    already_known: int
    rejections: list[tuple[int, list[str]]]


def _rows_where_in(model, columns: tuple[str, ...], column: str, values: list) -> list[tuple]:
    """The `columns` of the rows of `model` whose `column` is one of `values`, in one query with one
    parameter whatever their number (an array on PostgreSQL, JSON on SQLite), without the ORM's cost of
    preparing each value."""
    if not values:
        return []
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        condition, params = "= ANY(%s)", [values]
    elif connection.vendor == "sqlite":
        condition, params = "IN (SELECT value FROM json_each(%s))", [json.dumps(values)]
    else:
        condition, params = f"IN ({', '.join(['%s'] * len(values))})", values
    # Identifiers come from the model and are quoted; every value is a query parameter.
    sql = (
        f"SELECT {', '.join(quote(name) for name in columns)} FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(column)} {condition}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _batch_write(payments: list[tuple[int, PaymentRow]]) -> _BatchOutcome:
    """Write one batch in a constant number of queries; the caller wraps it in a transaction.

    One query for the ids already known, one for the members by NIR, one for their beneficiaries (when a
    payment names one), then `_payments_insert` (three queries).
    """
    known = {
        external_id
        for (external_id,) in _rows_where_in(
            Payment, ("external_id",), "external_id", list({row.external_id for _, row in payments})
        )
    }
    new = [row for _, row in payments if row.external_id not in known]
    members = dict(_rows_where_in(Member, ("nir", "id"), "nir", list({row.nir.number for row in new})))
    wanted = {members.get(row.nir.number) for row in new if row.beneficiary} - {None}
    beneficiaries: dict[tuple, int] = {}
    key = functools.cache(name_key)  # for this batch only: a feed names the same people again and again
    columns = ("id", "member_id", "last_name", "first_names", "birth_date")
    for pk, member_id, last_name, first_names, birth_date in _rows_where_in(
        Beneficiary, columns, "member_id", list(wanted)
    ):
        # birth_date: a date (PostgreSQL) or its text (SQLite), "AAAA-MM-JJ" either way once a str.
        beneficiaries.setdefault((member_id, key(last_name), key(first_names), str(birth_date)), pk)

    outcome = _BatchOutcome(created=0, already_known=0, rejections=[])
    accepted: dict[str, tuple[PaymentRow, int, int | None]] = {}
    for line, row in payments:
        if row.external_id in known or row.external_id in accepted:
            outcome.already_known += 1
            continue
        member_id = members.get(row.nir.number)
        if member_id is None:
            outcome.rejections.append(
                (line, [_("aucun assuré n'a le NIR %(nir)s dans le registre") % {"nir": row.nir.masked}])
            )
            continue
        beneficiary_id = None
        if row.beneficiary:
            ref = row.beneficiary
            beneficiary_id = beneficiaries.get(
                (member_id, key(ref.last_name), key(ref.first_names), ref.birth_date.isoformat())
            )
            if beneficiary_id is None:
                outcome.rejections.append(
                    (
                        line,
                        [
                            _(
                                "bénéficiaire des soins inconnu : aucun ayant droit de l'assuré %(nir)s n'a ces nom, "
                                "prénoms et date de naissance"
                            )
                            % {"nir": row.nir.masked}
                        ],
                    )
                )
                continue
        accepted[row.external_id] = (row, member_id, beneficiary_id)

    if accepted:
        _payments_insert(list(accepted.values()))
    outcome.created = len(accepted)
    return outcome


_PAYMENT_COLUMNS = ("external_id", "member_id", "beneficiary_id", "paid_on", "amount", "payee", "received_at")
_ACT_COLUMNS = ("payment_id", *ACT_FIELDS)
assert ActRow.__struct_fields__ == _ACT_COLUMNS[1:], "ActRow's fields are written in _ACT_COLUMNS order"


def _payment_ids_reserve(count: int) -> list[int] | None:
    """`count` ids for new payments that no other writer can take, or None on a database where we do not
    know how (the ids are then read back after the INSERT)."""
    table = Payment._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # From the id column's sequence, as an INSERT would take them: safe under concurrency. The
            # sequence is looked up once (MATERIALIZED), not once per id.
            cursor.execute(
                "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
                [connection.ops.quote_name(table), count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # SQLite has one writer at a time and the batch's transaction is writing (BEGIN IMMEDIATE, or the
            # INSERT fails if another writer committed since this read): the ids after the highest ever given
            # (AUTOINCREMENT keeps it in sqlite_sequence) are ours. An id taken all the same would fail the
            # primary key, and the batch would be retried.
            cursor.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
                f"coalesce((SELECT max(id) FROM {connection.ops.quote_name(table)}), 0))",
                [table],
            )
            (last,) = cursor.fetchone()
            return list(range(last + 1, last + 1 + count))
    return None


def rows_write(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Write `rows` (values in `columns` order) without the ORM: COPY on PostgreSQL, one executemany()
    elsewhere. The feed's writer, and the benchmarks' raw reference (bench.generate.raw_insert)."""
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The COPY's errors (a unique id inserted meanwhile) come out as Django's, like a query's.
            with connection.wrap_database_errors, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Identifiers come from the model and are quoted; every value is a query parameter.
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
                rows,
            )


def _payments_insert(accepted: list[tuple[PaymentRow, int, int | None]]) -> None:
    """Write the payments and their acts in three queries: reserve the payments' ids, write the payments,
    write the acts with their payment's id.

    Measured (bench/bench_payment_import.py): the ORM's bulk_create spent 3 s of an 8 s import of 5 000
    payments building SQL value by value, and PostgreSQL's client-side binding quoted each value of an
    executemany() in Python; COPY and executemany() of prepared tuples do neither.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids = _payment_ids_reserve(len(accepted))
    if ids is None:
        rows_write(
            Payment,
            _PAYMENT_COLUMNS,
            [
                (row.external_id, member_id, beneficiary_id, row.paid_on, row.amount, row.payee, now)
                for row, member_id, beneficiary_id in accepted
            ],
        )
        by_external_id = dict(
            _rows_where_in(Payment, ("external_id", "id"), "external_id", [row.external_id for row, _, _ in accepted])
        )
        ids = [by_external_id[row.external_id] for row, _, _ in accepted]
    else:
        rows_write(
            Payment,
            ("id", *_PAYMENT_COLUMNS),
            [
                (pk, row.external_id, member_id, beneficiary_id, row.paid_on, row.amount, row.payee, now)
                for pk, (row, member_id, beneficiary_id) in zip(ids, accepted, strict=True)
            ],
        )
    astuple = msgspec.structs.astuple
    rows_write(
        PaymentLine,
        _ACT_COLUMNS,
        [(pk, *astuple(act)) for pk, (row, _, _) in zip(ids, accepted, strict=True) for act in row.acts],
    )


def _batch_write_atomic(payments: list[tuple[int, PaymentRow]]) -> _BatchOutcome:
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
    read_fast = _fast_reader(today)
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
        payments = [(line, item) for line, item in entries if isinstance(item, PaymentRow)]
        rejections = [(line, item) for line, item in entries if not isinstance(item, PaymentRow)]
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
            if not text or text.isspace():
                continue
            run.lines_read += 1
            row = read_fast(text)
            if row is None:  # not in the usual form, or not valid: payment_parse() accepts it or says why
                try:
                    row = _payment_row(payment_parse(text=text, today=today))
                except PaymentRejected as rejected:
                    entries.append((number, rejected.reasons))
            if row is not None:
                entries.append((number, row))
                acts_in_batch += len(row.acts)
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
