"""One way to render every form: GOV.UK-style question pages.

Each field gets its label, its hint and its error message, the last two tied
to the input by aria-describedby; a form with errors starts with an error
summary whose links move focus to the fields.
"""

import datetime as dt
import hashlib
import re

from django import forms
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import get_language
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


def _choices_key(field) -> tuple:
    return tuple((str(value), str(label)) for value, label in getattr(field, "choices", ()))


class PortailForm(forms.Form):
    """Base form: CSS classes on inputs, and `aria-invalid` handled by Django.

    `memoize_rendering = True` keeps the markup of a valid bound form in the per-process "local" cache, keyed
    by everything it is drawn from (class, language, data and choices of every field): for a filter form on
    a busy page, whose select lists cost more to render than the rest of the page.
    """

    memoize_rendering = False

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

    def render(self, template_name=None, context=None, renderer=None):
        if not self.memoize_rendering or template_name or context or renderer or not self.is_bound or self.errors:
            return super().render(template_name, context, renderer)
        key = (
            f"{type(self).__module__}.{type(self).__qualname__}",
            get_language(),
            self.prefix,
            self.auto_id,
            *(
                (name, self.data.get(self.add_prefix(name)), _choices_key(field))
                for name, field in self.fields.items()
            ),
        )
        cache_key = "form:" + hashlib.blake2b(repr(key).encode(), digest_size=20).hexdigest()
        local = caches["local"]
        html = local.get(cache_key)
        if html is None:
            html = super().render()
            local.set(cache_key, html, None)
        return html

    # RenderableMixin binds these to its own render(): point them at this one.
    __str__ = render
    __html__ = render


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
