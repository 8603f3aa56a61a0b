"""The rule a personal code must follow, and the normalisation of secret answers."""

import re
import unicodedata

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DIGITS = "digits"
PASSPHRASE = "passphrase"


def personal_code_policy() -> str:
    return PASSPHRASE if settings.PORTAIL_PERSONAL_CODE_POLICY == PASSPHRASE else DIGITS


def personal_code_rule() -> str:
    """The rule in one sentence, shown before the member types."""
    if personal_code_policy() == PASSPHRASE:
        return _(
            "De 8 à 64 caractères, de tout type (lettres, chiffres, espaces, signes). "
            "Une phrase facile à retenir pour vous est un bon choix ; les mots de passe courants sont refusés."
        )
    return _(
        "De 8 à 13 chiffres, sans lettre ni espace. Évitez un chiffre répété, une suite (12345678), "
        "votre date de naissance ou une partie de votre numéro de sécurité sociale : ils sont refusés."
    )


def _is_sequence(code: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in zip(code, code[1:], strict=False)}
    return steps in ({1}, {9})


def _birth_date_forms(birth_date) -> set[str]:
    day, month = f"{birth_date.day:02d}", f"{birth_date.month:02d}"
    year, short_year = f"{birth_date.year:04d}", f"{birth_date.year % 100:02d}"
    return {day + month + year, year + month + day, day + month + short_year, short_year + month + day}


def personal_code_validate(code: str, *, birth_date=None, nir_number: str = "") -> None:
    """Raise ValidationError with every reason the code is refused."""
    if personal_code_policy() == PASSPHRASE:
        if not 8 <= len(code) <= 64:
            raise ValidationError(
                _("Votre code doit faire de 8 à 64 caractères ; vous en avez saisi %(count)d.") % {"count": len(code)},
                code="length",
            )
        CommonPasswordValidator().validate(code)
        return

    if not code.isascii() or not code.isdigit():
        raise ValidationError(_("Votre code personnel ne doit contenir que des chiffres (0 à 9)."), code="digits")
    if not 8 <= len(code) <= 13:
        raise ValidationError(
            _("Votre code personnel doit faire de 8 à 13 chiffres ; vous en avez saisi %(count)d.")
            % {"count": len(code)},
            code="length",
        )
    if len(set(code)) == 1:
        raise ValidationError(
            _("Votre code ne doit pas être un seul chiffre répété : il serait trop facile à deviner.")
        )
    if _is_sequence(code):
        raise ValidationError(_("Votre code ne doit pas être une suite de chiffres comme 12345678 ou 98765432."))
    if birth_date is not None and any(form in code for form in _birth_date_forms(birth_date)):
        raise ValidationError(_("Votre code ne doit pas contenir votre date de naissance."))
    nir_digits = re.sub(r"\D", "", nir_number)
    if nir_digits and any(code[i : i + 6] in nir_digits for i in range(len(code) - 5)):
        raise ValidationError(
            _("Votre code ne doit pas reprendre une partie de votre numéro de sécurité sociale (6 chiffres ou plus).")
        )


def normalise_answer(answer: str) -> str:
    """Answers compare without case, accents, punctuation or extra spaces:
    « Saint-Étienne » and « saint etienne » are the same answer."""
    decomposed = unicodedata.normalize("NFKD", answer)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[\W_]+", " ", without_accents.casefold())
    return " ".join(words.split())
