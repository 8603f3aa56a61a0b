"""Payments as a page prints them: every label translated and every amount
formatted once per page (not once per cell), so that a long history stays fast."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from portail.benefits.enums import ActNature, Payee
from portail.benefits.models import Payment
from portail.benefits.templatetags.money import format_money, format_rate


@dataclass(frozen=True)
class ActRow:
    care_date: str
    nature: str
    practitioner: str
    charged: str
    base: str
    rate: str
    reimbursed: str
    deductions: str
    deductions_detail: str


@dataclass(frozen=True)
class PaymentRow:
    paid_on: str
    amount: str
    payee: str
    for_whom: str
    natures: str
    caption: str
    acts: list[ActRow]


def _deductions_detail(line, flat_fee_label: str, deductible_label: str) -> str:
    parts = []
    if line.flat_fee:
        parts.append(f"{flat_fee_label} {format_money(line.flat_fee)}")
    if line.deductible:
        parts.append(f"{deductible_label} {format_money(line.deductible)}")
    return ", ".join(parts)


def payment_rows(payments: list[Payment]) -> list[PaymentRow]:
    """`payments` must come with their lines and beneficiary (Payment.objects.with_lines())."""
    natures = {value: str(label) for value, label in ActNature.choices}
    payees = {value: str(label) for value, label in Payee.choices}
    you, your_care = _("Vous"), _("vos soins")
    flat_fee_label, deductible_label = _("participation forfaitaire"), _("franchise")
    caption = _("Paiement du %(date)s : %(amount)s, versé à : %(payee)s – %(whose)s")
    rows = []
    for payment in payments:
        lines = list(payment.lines.all())
        amount = format_money(payment.amount)
        paid_on = f"{payment.paid_on:%d/%m/%Y}"
        beneficiary = payment.beneficiary
        whose = _("soins de %(name)s") % {"name": beneficiary.first_names} if beneficiary else your_care
        rows.append(
            PaymentRow(
                paid_on=paid_on,
                amount=amount,
                payee=payees[payment.payee],
                for_whom=beneficiary.first_names if beneficiary else you,
                natures=", ".join(dict.fromkeys(natures[line.nature] for line in lines)),
                caption=caption % {"date": paid_on, "amount": amount, "payee": payees[payment.payee], "whose": whose},
                acts=[
                    ActRow(
                        care_date=f"{line.care_date:%d/%m/%Y}",
                        nature=natures[line.nature],
                        practitioner=line.practitioner,
                        charged=format_money(line.amount_charged),
                        base=format_money(line.base),
                        rate=format_rate(line.rate),
                        reimbursed=format_money(line.reimbursed),
                        deductions=("−" + format_money(line.deductions)) if line.deductions else format_money(0),
                        deductions_detail=_deductions_detail(line, flat_fee_label, deductible_label),
                    )
                    for line in lines
                ],
            )
        )
    return rows
