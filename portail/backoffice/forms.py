import re

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portail.accounts.enums import UserKind
from portail.accounts.models import User
from portail.backoffice.enums import AccessReason
from portail.forms import DateField, NirField, NumericCodeInput, PortailForm


def reason_field(**kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=kwargs.pop("label", _("Motif de la consultation")),
        choices=[("", _("Choisissez un motif")), *AccessReason.choices],
        help_text=kwargs.pop(
            "help_text", _("Obligatoire : il est enregistré dans le journal des accès, avec votre nom et l'heure.")
        ),
        error_messages={"required": _("Choisissez le motif de la consultation.")},
        **kwargs,
    )


# --- Login ---------------------------------------------------------------------------


class AgentLoginForm(PortailForm):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        error_messages={"required": _("Saisissez votre identifiant.")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=256,
        error_messages={"required": _("Saisissez votre mot de passe.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(PortailForm):
    token = forms.CharField(
        label=_("Code à 6 chiffres"),
        help_text=_("Le code affiché par votre application d'authentification. Il change toutes les 30 secondes."),
        max_length=10,
        error_messages={"required": _("Saisissez le code affiché par votre application d'authentification.")},
        widget=NumericCodeInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not re.fullmatch(r"\d{6}", token):
            raise ValidationError(_("Le code fait 6 chiffres, sans espace ni lettre."), code="format")
        return token


class NewPasswordForm(PortailForm):
    password = forms.CharField(
        label=_("Nouveau mot de passe"),
        help_text=_("Au moins 12 caractères, différent de votre identifiant et des mots de passe courants."),
        strip=False,
        max_length=256,
        error_messages={"required": _("Choisissez un nouveau mot de passe.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Confirmez le nouveau mot de passe"),
        strip=False,
        max_length=256,
        error_messages={"required": _("Saisissez le nouveau mot de passe une seconde fois.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password_confirm") not in (None, cleaned["password"]):
            self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


# --- Member lookup and actions --------------------------------------------------------


class MemberSearchForm(PortailForm):
    reason = reason_field()
    nir = NirField(
        required=False,
        help_text=_(
            "13 caractères, ou 15 avec la clé ; les espaces sont facultatifs. Ou bien : nom et date de naissance."
        ),
    )
    last_name = forms.CharField(
        label=_("Nom de famille"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = DateField(
        label=_("Date de naissance"),
        required=False,
        help_text=_("Jour/mois/année, par exemple 14/07/1962."),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        by_nir = cleaned.get("nir") is not None
        last_name, birth_date = cleaned.get("last_name", "").strip(), cleaned.get("birth_date")
        if not by_nir:
            if not last_name and birth_date is None:
                raise ValidationError(
                    _("Saisissez le numéro de sécurité sociale, ou bien le nom de famille et la date de naissance.")
                )
            if not last_name:
                self.add_error("last_name", _("Saisissez le nom de famille, avec la date de naissance."))
            if birth_date is None:
                self.add_error("birth_date", _("Saisissez la date de naissance, avec le nom de famille."))
        return cleaned


class ReasonForm(PortailForm):
    """Asked before a member's file is shown (GET)."""

    motif = reason_field()


class MemberActionForm(PortailForm):
    reason = reason_field(
        label=_("Motif"),
        help_text=_("Enregistré dans le journal des accès."),
    )
    note = forms.CharField(
        label=_("Précision (facultatif)"),
        help_text=_("Ne notez ni code, ni réponse secrète, ni numéro de sécurité sociale."),
        required=False,
        max_length=200,
    )


# --- Audit log -------------------------------------------------------------------------


class AuditFilterForm(PortailForm):
    agent = forms.ModelChoiceField(
        label=_("Agent"),
        required=False,
        queryset=User.objects.filter(kind=UserKind.AGENT).order_by("username"),
        empty_label=_("Tous les agents"),
    )
    nir = NirField(required=False, help_text=_("Facultatif : les accès au dossier de cet assuré."))
    # The member, once found by NIR: the NIR itself stays out of the page's links.
    membre = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    date_from = DateField(label=_("Du"), required=False, help_text=_("jj/mm/aaaa"))
    date_to = DateField(label=_("Au"), required=False, help_text=_("jj/mm/aaaa"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("La date de fin précède la date de début."))
        return cleaned
