"""Amounts and rates written the French way: "1 234,56 €", "70 %".

The same functions serve templates (`{% load money %}`, `{{ amount|money }}`)
and the PDF statement, so that the page and the PDF print the same text.
"""

import functools
from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

# No-break spaces: the amount never wraps between its digits and its sign.
NBSP = "\u00a0"
CENT = Decimal("0.01")


def format_money(value) -> str:
    """ "1234.5" → "1 234,50 €" (no-break spaces between thousands and before the euro sign)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return _format_decimal(value)
    return _format_decimal(Decimal(value))


@functools.lru_cache(maxsize=4096)
def _format_decimal(value: Decimal) -> str:
    """Amounts repeat (the same consultation, the same flat fee): a payments page formats each once."""
    amount = value.quantize(CENT, rounding=ROUND_HALF_UP) or Decimal("0.00")  # never "-0,00 €"
    return f"{amount:,.2f}".replace(",", NBSP).replace(".", ",") + NBSP + "€"


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
