import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portail.accounts.enums import SecretQuestion
from portail.accounts.policy import (
    PASSPHRASE,
    normalise_answer,
    personal_code_policy,
    personal_code_rule,
    personal_code_validate,
)
from portail.forms import DateField, NirField, NumericCodeInput, PortailForm


class MemberNirField(NirField):
    """The NIR as a member types it, with where to find it."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            _(
                "13 caractères, ou 15 avec la clé. Vous le trouvez sur votre carte Vitale et vos relevés "
                "de remboursement. Les espaces sont facultatifs. Exemple : 2 85 07 75 123 456"
            ),
        )
        kwargs.setdefault("error_messages", {"required": _("Saisissez votre numéro de sécurité sociale.")})
        super().__init__(**kwargs)


class BirthDateField(DateField):
    """A birth date: a real date, not in the future."""

    def clean(self, value):
        date = super().clean(value)
        if date is not None and (date > dt.date.today() or date.year < 1900):
            raise ValidationError(_("Saisissez votre vraie date de naissance, au format jour/mois/année."))
        return date


class PostalCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Code postal de votre domicile"))
        kwargs.setdefault("help_text", _("5 chiffres, celui de l'adresse connue de votre caisse. Exemple : 69003"))
        kwargs.setdefault("error_messages", {"required": _("Saisissez le code postal de votre domicile.")})
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "postal-code", "class": "input input--short"}
            ),
        )
        kwargs.setdefault("max_length", 8)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value).replace(" ", "")
        if not re.fullmatch(r"\d{5}", value):
            raise ValidationError(_("Le code postal fait 5 chiffres, par exemple 69003."), code="format")
        return value


def _secret_widget(**attrs):
    if personal_code_policy() == PASSPHRASE:
        return forms.PasswordInput(attrs={"autocomplete": "new-password", **attrs})
    return forms.PasswordInput(
        attrs={"autocomplete": "new-password", "inputmode": "numeric", "class": "input input--code", **attrs}
    )


class LoginForm(PortailForm):
    nir = MemberNirField()
    code = forms.CharField(
        label=_("Code personnel ou code provisoire"),
        help_text=_(
            "Votre code personnel, choisi à la création du compte. Première connexion : le code provisoire "
            "de 8 chiffres reçu par courrier."
        ),
        max_length=64,
        strip=False,
        error_messages={"required": _("Saisissez votre code personnel ou votre code provisoire.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "input input--code"}),
    )


class CodeOrderNirForm(PortailForm):
    nir = MemberNirField()


class CodeOrderIdentityForm(PortailForm):
    last_name = forms.CharField(
        label=_("Nom de famille"),
        help_text=_("Tel qu'il figure sur votre carte Vitale (nom de naissance)."),
        max_length=100,
        error_messages={"required": _("Saisissez votre nom de famille.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name", "spellcheck": "false"}),
    )
    birth_date = BirthDateField(
        label=_("Date de naissance"),
        help_text=_("Jour/mois/année. Exemple : 01/01/1970"),
        error_messages={"required": _("Saisissez votre date de naissance.")},
    )
    postal_code = PostalCodeField()


class TermsForm(PortailForm):
    ACCEPT = "accept"
    REFUSE = "refuse"
    decision = forms.ChoiceField(
        label=_("Acceptez-vous les conditions d'utilisation du compte ?"),
        choices=[
            (ACCEPT, _("Oui, j'accepte les conditions d'utilisation")),
            (REFUSE, _("Non, je refuse (aucun compte ne sera créé)")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez « Oui, j'accepte » ou « Non, je refuse ».")},
    )


class PersonalCodeMixin(forms.Form):
    """The new personal code, typed twice, checked against the policy."""

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["personal_code"] = forms.CharField(
            label=_("Nouveau code personnel"),
            help_text=personal_code_rule(),
            max_length=64,
            strip=False,
            error_messages={"required": _("Choisissez votre code personnel.")},
            widget=_secret_widget(),
        )
        self.fields["personal_code_confirm"] = forms.CharField(
            label=_("Confirmez le nouveau code personnel"),
            help_text=_("Saisissez-le une seconde fois, à l'identique."),
            max_length=64,
            strip=False,
            error_messages={"required": _("Saisissez une seconde fois votre code personnel.")},
            widget=_secret_widget(),
        )
        if self.field_order:
            self.order_fields(self.field_order)

    def clean_personal_code(self):
        code = self.cleaned_data["personal_code"]
        personal_code_validate(
            code,
            birth_date=self.member.birth_date if self.member else None,
            nir_number=self.member.nir if self.member else "",
        )
        return code

    def clean(self):
        cleaned = super().clean()
        code, confirm = cleaned.get("personal_code"), cleaned.get("personal_code_confirm")
        if code and confirm and code != confirm:
            self.add_error(
                "personal_code_confirm", _("Les deux codes ne sont pas identiques : saisissez le même code deux fois.")
            )
        return cleaned


class SecretQuestionMixin(forms.Form):
    """A secret question from the list, and its answer typed twice."""

    secret_question = forms.ChoiceField(
        label=_("Question secrète"),
        help_text=_("Elle vous sera posée si vous oubliez votre code personnel. Choisissez-en une dans la liste."),
        choices=[("", _("Choisissez une question"))] + SecretQuestion.choices,
        error_messages={"required": _("Choisissez une question secrète dans la liste.")},
    )
    secret_answer = forms.CharField(
        label=_("Votre réponse"),
        help_text=_("Les majuscules, les accents et les espaces ne comptent pas."),
        max_length=100,
        error_messages={"required": _("Saisissez la réponse à votre question secrète.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=True),
    )
    secret_answer_confirm = forms.CharField(
        label=_("Confirmez votre réponse"),
        max_length=100,
        error_messages={"required": _("Saisissez une seconde fois la réponse à votre question secrète.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=True),
    )

    def clean_secret_answer(self):
        answer = self.cleaned_data["secret_answer"]
        if len(normalise_answer(answer)) < 2:
            raise ValidationError(_("Votre réponse doit compter au moins 2 lettres ou chiffres."))
        return answer

    def clean(self):
        cleaned = super().clean()
        answer, confirm = cleaned.get("secret_answer"), cleaned.get("secret_answer_confirm")
        if answer and confirm and normalise_answer(answer) != normalise_answer(confirm):
            self.add_error(
                "secret_answer_confirm", _("Les deux réponses ne sont pas identiques : saisissez la même réponse.")
            )
        return cleaned


class AccountCodesForm(PersonalCodeMixin, SecretQuestionMixin, PortailForm):
    provisional_code = forms.CharField(
        label=_("Code provisoire reçu par courrier"),
        help_text=_("Les 8 chiffres imprimés sur la lettre, une nouvelle fois pour confirmer que c'est bien vous."),
        max_length=20,
        error_messages={"required": _("Saisissez le code provisoire reçu par courrier.")},
        widget=NumericCodeInput(attrs={"autocomplete": "one-time-code"}),
    )
    field_order = [
        "provisional_code",
        "personal_code",
        "personal_code_confirm",
        "secret_question",
        "secret_answer",
        "secret_answer_confirm",
    ]

    def clean_provisional_code(self):
        value = self.cleaned_data["provisional_code"].replace(" ", "")
        if not re.fullmatch(r"\d{8}", value):
            raise ValidationError(_("Le code provisoire fait 8 chiffres, sans lettre."), code="format")
        return value


class EmailForm(PortailForm):
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_(
            "Nous y enverrons un lien pour la confirmer, puis les avis de nouveaux messages. Exemple : nom@exemple.fr"
        ),
        max_length=254,
        error_messages={
            "required": _("Saisissez votre adresse e-mail."),
            "invalid": _("Saisissez une adresse e-mail complète, par exemple nom@exemple.fr."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class RecoveryRequestForm(PortailForm):
    nir = MemberNirField()
    birth_date = BirthDateField(
        label=_("Date de naissance"),
        help_text=_("Jour/mois/année. Exemple : 01/01/1970"),
        error_messages={"required": _("Saisissez votre date de naissance.")},
    )


class SecretAnswerForm(PortailForm):
    answer = forms.CharField(
        label=_("Votre réponse"),
        help_text=_("Les majuscules, les accents et les espaces ne comptent pas."),
        max_length=100,
        error_messages={"required": _("Saisissez la réponse à votre question secrète.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class NewPersonalCodeForm(PersonalCodeMixin, PortailForm):
    pass


def _current_code_field():
    return forms.CharField(
        label=_("Votre code personnel actuel"),
        help_text=_("Pour protéger votre compte, confirmez que c'est bien vous."),
        max_length=64,
        strip=False,
        error_messages={"required": _("Saisissez votre code personnel actuel.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "input input--code"}),
    )


class ReauthenticationMixin(forms.Form):
    """Adds the current personal code, first, when the change needs it."""

    def __init__(self, *args, require_current_code=True, **kwargs):
        super().__init__(*args, **kwargs)
        if require_current_code:
            self.fields["current_code"] = _current_code_field()
            self.order_fields(["current_code", *[name for name in self.fields if name != "current_code"]])


class EmailChangeForm(ReauthenticationMixin, EmailForm):
    pass


class PersonalCodeChangeForm(ReauthenticationMixin, PersonalCodeMixin, PortailForm):
    """The current code is always required to change it."""

    def __init__(self, *args, member=None, **kwargs):
        kwargs["require_current_code"] = True
        super().__init__(*args, member=member, **kwargs)


class SecretQuestionChangeForm(ReauthenticationMixin, SecretQuestionMixin, PortailForm):
    pass


class TerminationForm(ReauthenticationMixin, PortailForm):
    def __init__(self, *args, **kwargs):
        kwargs["require_current_code"] = True
        super().__init__(*args, **kwargs)
