"""One way to render every form: GOV.UK-style question pages.

Each field gets its label, its hint and its error message, the last two tied
to the input by aria-describedby; a form with errors starts with an error
summary whose links move focus to the fields.
"""

from django import forms
from django.forms.renderers import TemplatesSetting


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
