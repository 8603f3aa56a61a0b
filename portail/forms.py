"""One way to render every form: GOV.UK-style question pages.

Each field gets its label, its hint and its error message, the last two tied
to the input by aria-describedby; a form with errors starts with an error
summary whose links move focus to the fields.
"""

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _

from portail.registry.nir import parse_nir


class PortailFormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class NumericCodeInput(forms.TextInput):
    """A code made of digits: numeric keypad on phones, no spell-check, no autofill of old values."""

    def __init__(self, attrs=None):
        defaults = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "off",
            "class": "input input--code",
        }
        super().__init__(attrs={**defaults, **(attrs or {})})


class PortailForm(forms.Form):
    """Base form: CSS classes on inputs, and `aria-invalid` handled by Django."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = widget.attrs.get("class", "")
            if isinstance(widget, forms.Select):
                base = "select"
            elif isinstance(widget, forms.Textarea):
                base = "textarea"
            elif isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
                continue
            else:
                base = "input"
            if base not in css.split():
                widget.attrs["class"] = f"{base} {css}".strip()


def parse_french_date(value: str) -> dt.date:
    """dd/mm/yyyy, as people type it (dashes, dots or spaces also accepted, or 8 digits)."""
    match = re.fullmatch(r"\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*", value) or re.fullmatch(
        r"\s*(\d{2})(\d{2})(\d{4})\s*", value
    )
    if match is None:
        raise ValidationError(
            _("Saisissez la date sous la forme jour/mois/année, par exemple 01/01/1970."), code="format"
        )
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValidationError(
            _("Cette date n'existe pas : vérifiez le jour (1 à 31) et le mois (1 à 12)."), code="invalid"
        ) from None


class DateField(forms.CharField):
    """A date typed as dd/mm/yyyy; cleans to a date, or None when optional and blank."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "class": "input input--short"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_french_date(value) if value else None


class NirField(forms.CharField):
    """The social-security number, parsed by the registry: cleans to a Nir (or None when optional and blank)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Numéro de sécurité sociale"))
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_nir(value) if value else None
