"""Payments as the payments page prints them, built here rather than in the template.

A detailed view of 6 months is some 60 tables and 120 acts: through the template engine that cost about
10 ms a page (one node render per cell); as escaped strings joined here it costs well under 1 ms
(bench/bench_payments_page.py). Every label is translated and every amount formatted once per page, every
value from the database goes through escape(), and the markup is the one the template used to write: a
caption per table, column headers with scope, the amount paid in the table's footer.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portail.benefits.enums import ActNature, Payee
from portail.benefits.models import ACT_FIELDS, Payment, PaymentQuerySet
from portail.benefits.statements import COLUMNS
from portail.benefits.templatetags.money import format_money, format_rate

PAYMENT_FIELDS = ("pk", "paid_on", "amount", "payee", "beneficiary__first_names")


@dataclass(slots=True)
class PagePayment:
    """What the payments page shows of a payment; `acts` are tuples of ACT_FIELDS."""

    pk: int
    paid_on: dt.date
    amount: Decimal
    payee: str
    beneficiary_name: str | None
    acts: list[tuple] = field(default_factory=list)


def page_payments(query: PaymentQuerySet) -> list[PagePayment]:
    """The payments of `query`, in its order, each with its acts by date of care.

    One query (payments LEFT JOIN their acts, one row per act) and plain tuples: model instances and
    prefetch_related cost more than the rest of the page for 60 payments."""
    payments: list[PagePayment] = []
    rows = query.order_by(*Payment._meta.ordering, "lines__care_date", "lines__pk").values_list(
        *PAYMENT_FIELDS, *(f"lines__{name}" for name in ACT_FIELDS)
    )
    width = len(PAYMENT_FIELDS)
    for row in rows:
        if not payments or payments[-1].pk != row[0]:
            payments.append(PagePayment(*row[:width]))
        if row[width] is not None:  # a payment without acts comes as one row of NULLs
            payments[-1].acts.append(row[width:])
    return payments


def _deductions(flat_fee: Decimal, deductible: Decimal, flat_fee_label: str, deductible_label: str) -> str:
    """ "−2,00 € (participation forfaitaire 2,00 €)", or "0,00 €" when nothing was deducted."""
    if not (flat_fee or deductible):
        return format_money(0)
    parts = []
    if flat_fee:
        parts.append(f"{flat_fee_label} {format_money(flat_fee)}")
    if deductible:
        parts.append(f"{deductible_label} {format_money(deductible)}")
    return f'−{format_money(flat_fee + deductible)} <span class="hint">({escape(", ".join(parts))})</span>'


def payment_tables(payments: list[PagePayment]) -> SafeString:
    """The detailed view: one captioned table per payment, one row per act."""
    natures = {value: escape(label) for value, label in ActNature.choices}
    payees = {value: str(label) for value, label in Payee.choices}
    flat_fee_label, deductible_label = _("participation forfaitaire"), _("franchise")
    your_care = _("vos soins")
    caption = _("Paiement du %(date)s : %(amount)s, versé à : %(payee)s – %(whose)s")
    # The statement's columns: the same acts under the same headings on both pages.
    number_class = ' class="number"'
    headers = "".join(
        f'<th scope="col"{number_class if number else ""}>{escape(str(label))}</th>' for label, number in COLUMNS
    )
    head = f"<thead><tr>{headers}</tr></thead>"
    paid_label = escape(_("Montant versé"))
    tables = []
    for payment in payments:
        amount = format_money(payment.amount)
        paid_on = f"{payment.paid_on:%d/%m/%Y}"
        name = payment.beneficiary_name
        whose = _("soins de %(name)s") % {"name": name} if name else your_care
        title = caption % {"date": paid_on, "amount": amount, "payee": payees[payment.payee], "whose": whose}
        acts = "".join(
            f"<tr><td>{care_date:%d/%m/%Y}</td><td>{natures[nature]}</td><td>{escape(practitioner)}</td>"
            f'<td class="number">{format_money(charged)}</td><td class="number">{format_money(base)}</td>'
            f'<td class="number">{format_rate(rate)}</td><td class="number">{format_money(reimbursed)}</td>'
            f'<td class="number">{_deductions(flat_fee, deductible, flat_fee_label, deductible_label)}</td></tr>'
            for care_date, nature, practitioner, charged, base, rate, reimbursed, flat_fee, deductible in payment.acts
        )
        tables.append(
            f'<div class="table-wrapper"><table><caption>{escape(title)}</caption>{head}<tbody>{acts}</tbody>'
            f'<tfoot><tr><th scope="row" colspan="7">{paid_label}</th>'
            f'<td class="number"><strong>{amount}</strong></td></tr></tfoot></table></div>'
        )
    return mark_safe("\n".join(tables))  # noqa: S308 -- every value above went through escape() or is a formatted number


def payment_summary_rows(payments: list[PagePayment]) -> SafeString:
    """The summary view's rows: date, whose care, natures of the acts, payee, amount."""
    natures = {value: str(label) for value, label in ActNature.choices}
    payees = {value: escape(label) for value, label in Payee.choices}
    you = _("Vous")
    rows = []
    for payment in payments:
        kinds = ", ".join(dict.fromkeys(natures[act[1]] for act in payment.acts))
        rows.append(
            f"<tr><td>{payment.paid_on:%d/%m/%Y}</td><td>{escape(payment.beneficiary_name or you)}</td>"
            f"<td>{escape(kinds)}</td><td>{payees[payment.payee]}</td>"
            f'<td class="number">{format_money(payment.amount)}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 -- every value above went through escape() or is a formatted number
