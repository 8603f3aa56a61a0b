"""Amounts and rates written the French way: "1 234,56 €", "70 %".

The same functions serve templates (`{% load money %}`, `{{ amount|money }}`)
and the PDF statement, so that the page and the PDF print the same text.
"""

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

# No-break spaces: the amount never wraps between its digits and its sign.
NBSP = "\u00a0"


def format_money(value) -> str:
    """ "1234.5" → "1 234,50 €" (no-break spaces between thousands and before the euro sign)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}€"


def format_rate(value) -> str:
    """ "70.00" → "70 %", "65.50" → "65,5 %"."""
    if value is None or value == "":
        return ""
    rate = Decimal(value).normalize()
    text = f"{rate:f}".replace(".", ",")
    return f"{text}{NBSP}%"


@register.filter
def money(value) -> str:
    return format_money(value)


@register.filter
def rate(value) -> str:
    return format_rate(value)
