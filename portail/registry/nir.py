"""The NIR (numéro d'inscription au répertoire, the "social-security number"): parsing in one place.

Layout of the 13 characters (positions 1-based), then the 2-digit key:

======  ==========================================================================
1       sex: 1 (man) or 2 (woman)
2-3     last two digits of the birth year
4-5     birth month: 01-12; INSEE also uses 20-30 and 50-99 when the civil-status
        document gives no month ("mois fictifs") and 31-42 (month + 30) when it
        is incomplete but gives the month ("mois pseudo-fictifs")
6-7     department of birth: 01-19, 21-96 (91-96 are also used for Algeria,
        Morocco and Tunisia before their independence), 2A/2B for Corsica;
        or 99 for a birth abroad
6-8     overseas: 971-978 and 984-988 (INSEE geographic code), then the commune
        has 2 digits
8-10    commune of birth (INSEE code, not the postal code); after 99, the INSEE
        code of the country of birth
11-13   order number of the birth-certificate in the commune and month
14-15   key: 97 - (number mod 97), with 2A read as 19 and 2B as 18
======  ==========================================================================

Corsica: INSEE split department 20 into 2A and 2B on 1 January 1976. NIRs of
people born there before keep 20. Only two digits of the year are known, so we
accept 20 when the year is 00-75 (possibly 1900-1975) and reject it for 76-99
(1976-1999, when 2A/2B were already in use); 2A/2B are always accepted (INSEE
rewrote many older numbers, and the reference vectors use 2B for 1953).

Sources checked: stdnum.fr.nir's references (xml.insee.fr/schema/nir.html),
service-public.fr "Que signifie le numéro de sécurité sociale ?" and INSEE's
description of fictitious and pseudo-fictitious months.
"""

import datetime
import random
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from stdnum import exceptions as stdnum_exceptions
from stdnum.fr import nir as stdnum_nir

from portail.registry.enums import Sex

NIR_LENGTH = 13
NIR_WITH_KEY_LENGTH = 15

# Spaces (including no-break spaces), dots, hyphens and the other dashes people paste.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015]")
_DIGITS = frozenset("0123456789")

VALID_MONTHS = frozenset(range(1, 13)) | frozenset(range(20, 43)) | frozenset(range(50, 100))
METROPOLITAN_DEPARTMENTS = (
    tuple(f"{n:02d}" for n in range(1, 20)) + ("2A", "2B") + tuple(f"{n:02d}" for n in range(21, 97))
)
OVERSEAS_DEPARTMENTS = frozenset({"971", "972", "973", "974", "975", "976", "977", "978"}) | frozenset(
    {"984", "985", "986", "987", "988"}
)
BORN_ABROAD = "99"
CORSICA_SPLIT_YEAR = 76  # 2A/2B since 1 January 1976


class NirErrorCode:
    """The `code` of each class of NirError."""

    EMPTY = "nir_empty"
    CHARACTERS = "nir_characters"
    LENGTH = "nir_length"
    SEX = "nir_sex"
    MONTH = "nir_month"
    DEPARTMENT = "nir_department"
    CORSICA = "nir_corsica"
    COMMUNE = "nir_commune"
    COUNTRY = "nir_country"
    ORDER = "nir_order"
    KEY = "nir_key"


MESSAGES = {
    NirErrorCode.EMPTY: _(
        "Saisissez votre numéro de sécurité sociale : 13 caractères, ou 15 avec la clé, "
        "tels qu'ils figurent sur votre carte Vitale."
    ),
    NirErrorCode.CHARACTERS: _(
        "Le numéro ne contient que des chiffres, sauf 2A ou 2B (Corse) aux 6e et 7e positions : "
        "retirez « %(character)s »."
    ),
    NirErrorCode.LENGTH: ngettext_lazy(
        "Vous avez saisi %(count)d caractère (sans compter les espaces) : le numéro en compte 13, ou 15 avec la clé.",
        "Vous avez saisi %(count)d caractères (sans compter les espaces) : le numéro en compte 13, ou 15 avec la clé.",
        "count",
    ),
    NirErrorCode.SEX: _("Le premier chiffre doit être 1 (homme) ou 2 (femme)."),
    NirErrorCode.MONTH: _(
        "Les 4e et 5e chiffres indiquent le mois de naissance, de 01 à 12 : « %(month)s » n'est pas possible. "
        "Vérifiez-les sur votre carte Vitale."
    ),
    NirErrorCode.DEPARTMENT: _(
        "Le lieu de naissance (à partir du 6e caractère) « %(department)s » n'existe pas : il faut un "
        "département de 01 à 95, 2A ou 2B pour la Corse, 971 à 976 pour l'outre-mer, ou 99 pour une "
        "naissance à l'étranger."
    ),
    NirErrorCode.CORSICA: _(
        "Pour une naissance en Corse à partir de 1976, les 6e et 7e caractères sont 2A (Corse-du-Sud) "
        "ou 2B (Haute-Corse), et non 20."
    ),
    NirErrorCode.COMMUNE: _(
        "Le code de la commune de naissance (« %(commune)s ») ne peut pas être composé uniquement de zéros : "
        "vérifiez les chiffres qui suivent le département."
    ),
    NirErrorCode.COUNTRY: _(
        "Après 99 (naissance à l'étranger), les 8e à 10e chiffres donnent le pays de naissance "
        "et ne peuvent pas être 000."
    ),
    NirErrorCode.ORDER: _("Les 11e à 13e chiffres (numéro d'ordre) ne peuvent pas être 000 : vérifiez-les."),
    NirErrorCode.KEY: _("La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre."),
}


class NirError(ValidationError):
    """The value is not a well-formed NIR. `code` says which rule failed; the message says how to fix it."""

    def __init__(self, code: str, **params):
        super().__init__(MESSAGES[code], code=code, params=params or None)


@dataclass(frozen=True, repr=False)
class Nir:
    number: str  # the 13 characters, upper case, no separators
    key: str  # the 2-digit key
    sex: Sex
    birth_year: str  # 2 digits
    birth_month: str  # 2 digits, possibly an INSEE pseudo-month
    department: str  # 2 characters, or 3 digits overseas; "99" for a birth abroad
    commune: str  # 3 digits, or 2 overseas; the INSEE country code after 99
    order: str  # 3 digits

    def __repr__(self) -> str:  # never leak the whole number into logs
        return f"<Nir {self.masked}>"

    def __str__(self) -> str:
        return self.formatted

    @property
    def with_key(self) -> str:
        """The 15 characters, as stored by the fund's systems."""
        return self.number + self.key

    @property
    def formatted(self) -> str:
        """As printed on the Vitale card: "2 53 07 2B 073 004 70"."""
        return stdnum_nir.format(self.with_key)

    @property
    def masked(self) -> str:
        """Only the last 3 characters, for lists and logs: "*** 470"."""
        return f"*** {self.with_key[-3:]}"

    @property
    def born_abroad(self) -> bool:
        return self.department == BORN_ABROAD

    @property
    def birth_month_number(self) -> int | None:
        """The real month (1-12) when the NIR tells it (pseudo-months 31-42 included), else None."""
        month = int(self.birth_month)
        if 1 <= month <= 12:
            return month
        if 31 <= month <= 42:
            return month - 30
        return None

    def agrees_with(self, *, sex: str, birth_date: datetime.date) -> bool:
        """True when sex and birth date (year, and month when the NIR tells it) match the number."""
        if self.sex != sex or int(self.birth_year) != birth_date.year % 100:
            return False
        month = self.birth_month_number
        return month is None or month == birth_date.month


def _check_characters(cleaned: str) -> None:
    for index, character in enumerate(cleaned):
        if character in _DIGITS:
            continue
        if index == 6 and character in "ABab" and cleaned[5] == "2":
            continue
        shown = character if character.isprintable() else repr(character)
        raise NirError(NirErrorCode.CHARACTERS, character=shown)


def parse_nir(value: str) -> Nir:
    """Parse a NIR typed by a person or read from a file; raise NirError saying what to fix.

    Accepts 13 characters, or 15 with the key (then checked); spaces, dots and dashes anywhere;
    2a/2b in lower case.
    """
    cleaned = _SEPARATORS.sub("", value or "")
    if not cleaned:
        raise NirError(NirErrorCode.EMPTY)
    _check_characters(cleaned)
    cleaned = cleaned.upper()
    if len(cleaned) not in (NIR_LENGTH, NIR_WITH_KEY_LENGTH):
        raise NirError(NirErrorCode.LENGTH, count=len(cleaned))
    number, typed_key = cleaned[:NIR_LENGTH], cleaned[NIR_LENGTH:]

    if number[0] not in (Sex.MALE, Sex.FEMALE):
        raise NirError(NirErrorCode.SEX)
    birth_year, birth_month = number[1:3], number[3:5]
    if int(birth_month) not in VALID_MONTHS:
        raise NirError(NirErrorCode.MONTH, month=birth_month)

    department = number[5:7]
    if department in ("97", "98"):
        department, commune = number[5:8], number[8:10]
        if department not in OVERSEAS_DEPARTMENTS:
            raise NirError(NirErrorCode.DEPARTMENT, department=department)
    else:
        commune = number[7:10]
        if department == "20":
            if int(birth_year) >= CORSICA_SPLIT_YEAR:
                raise NirError(NirErrorCode.CORSICA)
        elif department != BORN_ABROAD and department not in METROPOLITAN_DEPARTMENTS:
            raise NirError(NirErrorCode.DEPARTMENT, department=department)
    if not commune.strip("0"):
        if department == BORN_ABROAD:
            raise NirError(NirErrorCode.COUNTRY)
        raise NirError(NirErrorCode.COMMUNE, commune=commune)
    order = number[10:13]
    if order == "000":
        raise NirError(NirErrorCode.ORDER)

    if typed_key:
        try:
            stdnum_nir.validate(cleaned)
        except stdnum_exceptions.InvalidChecksum:
            raise NirError(NirErrorCode.KEY) from None
        key = typed_key
    else:
        key = stdnum_nir.calc_check_digits(number)

    return Nir(
        number=number,
        key=key,
        sex=Sex(number[0]),
        birth_year=birth_year,
        birth_month=birth_month,
        department=department,
        commune=commune,
        order=order,
    )


def validate_nir(value: str) -> None:
    """Django validator: raises NirError (a ValidationError) when `value` is not a NIR."""
    parse_nir(value)


def _random_department(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.9:
        return rng.choice(METROPOLITAN_DEPARTMENTS)
    if draw < 0.95:
        return rng.choice(("971", "972", "973", "974", "975", "976"))
    return BORN_ABROAD


def nir_generate(*, sex: str, birth_date: datetime.date, rng: random.Random, department: str | None = None) -> Nir:
    """A valid synthetic NIR consistent with `sex` and `birth_date` (demo data, factories, benchmarks).

    `department`: "75", "2A", "971", "99" (born abroad)...; drawn at random when None.
    """
    department = (department or _random_department(rng)).upper()
    if len(department) == 3:
        commune = f"{rng.randint(1, 99):02d}"
    elif department == BORN_ABROAD:
        commune = f"{rng.randint(101, 499):03d}"  # INSEE country codes run from 99101 to 995xx
    else:
        commune = f"{rng.randint(1, 999):03d}"
    number = (
        f"{Sex(sex)}{birth_date.year % 100:02d}{birth_date.month:02d}{department}{commune}{rng.randint(1, 999):03d}"
    )
    return parse_nir(number + stdnum_nir.calc_check_digits(number))
