import datetime
import random

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from portail.registry.enums import Sex
from portail.registry.nir import Nir, NirError, NirErrorCode, nir_generate, parse_nir


def with_key(number: str) -> str:
    return number + stdnum_nir.calc_check_digits(number)


class TestParseNirAccepts:
    @pytest.mark.parametrize(
        ("value", "number", "key", "department", "commune"),
        [
            ("295109912611193", "2951099126111", "93", "99", "126"),
            ("253072B07300470", "253072B073004", "70", "2B", "073"),
            ("253072A07300443", "253072A073004", "43", "2A", "073"),
            ("2 53 07 2b 073 004 70", "253072B073004", "70", "2B", "073"),
            ("2.53.07.2a.073.004", "253072A073004", "43", "2A", "073"),
            ("2-95-10-99-126-111-93", "2951099126111", "93", "99", "126"),
            (" 2951099126111 ", "2951099126111", "93", "99", "126"),
            (with_key("1850397112345"), "1850397112345", stdnum_nir.calc_check_digits("1850397112345"), "971", "12"),
        ],
    )
    def test_vectors(self, value, number, key, department, commune):
        nir = parse_nir(value)
        assert (nir.number, nir.key, nir.department, nir.commune) == (number, key, department, commune)

    def test_fields(self):
        nir = parse_nir("253072B07300470")
        assert nir == Nir(
            number="253072B073004",
            key="70",
            sex=Sex.FEMALE,
            birth_year="53",
            birth_month="07",
            department="2B",
            commune="073",
            order="004",
        )
        assert nir.formatted == "2 53 07 2B 073 004 70"
        assert nir.masked == "*** 470"
        assert nir.with_key == "253072B07300470"
        assert "073" not in repr(nir)

    def test_born_abroad_country_code(self):
        nir = parse_nir("295109912611193")
        assert nir.born_abroad
        assert nir.commune == "126"

    @pytest.mark.parametrize("month", ["01", "12", "20", "25", "30", "31", "42", "50", "99"])
    def test_insee_pseudo_months(self, month):
        assert parse_nir(with_key(f"185{month}75123456")).birth_month == month

    @pytest.mark.parametrize(("month", "expected"), [("07", 7), ("37", 7), ("20", None), ("55", None)])
    def test_birth_month_number(self, month, expected):
        assert parse_nir(with_key(f"185{month}75123456")).birth_month_number == expected

    def test_corsica_20_before_1976(self):
        assert parse_nir(with_key("1650720123456")).department == "20"

    def test_tunisia_before_independence(self):
        assert parse_nir(with_key("1450396123456")).department == "96"

    def test_is_a_validation_error(self):
        with pytest.raises(ValidationError):
            parse_nir("1")


REJECTED = [
    (
        "",
        NirErrorCode.EMPTY,
        "Saisissez votre numéro de sécurité sociale : 13 caractères, ou 15 avec la clé, "
        "tels qu'ils figurent sur votre carte Vitale.",
    ),
    (
        " . - ",
        NirErrorCode.EMPTY,
        "Saisissez votre numéro de sécurité sociale : 13 caractères, ou 15 avec la "
        "clé, tels qu'ils figurent sur votre carte Vitale.",
    ),
    (
        "1 85 0x 75 123 456",
        NirErrorCode.CHARACTERS,
        "Le numéro ne contient que des chiffres, sauf 2A ou 2B (Corse) aux 6e et 7e positions : retirez « x ».",
    ),
    (
        "18503 3A 123456",
        NirErrorCode.CHARACTERS,
        "Le numéro ne contient que des chiffres, sauf 2A ou 2B (Corse) aux 6e et 7e positions : retirez « A ».",
    ),
    (
        "1 85 03 75 123 45",
        NirErrorCode.LENGTH,
        "Vous avez saisi 12 caractères (sans compter les espaces) : le numéro en compte 13, ou 15 avec la clé.",
    ),
    (
        "1",
        NirErrorCode.LENGTH,
        "Vous avez saisi 1 caractère (sans compter les espaces) : le numéro en compte 13, ou 15 avec la clé.",
    ),
    (
        "18503751234567",
        NirErrorCode.LENGTH,
        "Vous avez saisi 14 caractères (sans compter les espaces) : le numéro en compte 13, ou 15 avec la clé.",
    ),
    ("3850375123456", NirErrorCode.SEX, "Le premier chiffre doit être 1 (homme) ou 2 (femme)."),
    (
        "1851375123456",
        NirErrorCode.MONTH,
        "Les 4e et 5e chiffres indiquent le mois de naissance, de 01 à 12 : "
        "« 13 » n'est pas possible. Vérifiez-les sur votre carte Vitale.",
    ),
    (
        "1850075123456",
        NirErrorCode.MONTH,
        "Les 4e et 5e chiffres indiquent le mois de naissance, de 01 à 12 : "
        "« 00 » n'est pas possible. Vérifiez-les sur votre carte Vitale.",
    ),
    (
        "1854575123456",
        NirErrorCode.MONTH,
        "Les 4e et 5e chiffres indiquent le mois de naissance, de 01 à 12 : "
        "« 45 » n'est pas possible. Vérifiez-les sur votre carte Vitale.",
    ),
    (
        "1850300123456",
        NirErrorCode.DEPARTMENT,
        "Le lieu de naissance (à partir du 6e caractère) « 00 » "
        "n'existe pas : il faut un département de 01 à 95, 2A ou 2B pour la Corse, 971 à 976 pour l'outre-mer, "
        "ou 99 pour une naissance à l'étranger.",
    ),
    (
        "1850397912345",
        NirErrorCode.DEPARTMENT,
        "Le lieu de naissance (à partir du 6e caractère) « 979 » "
        "n'existe pas : il faut un département de 01 à 95, 2A ou 2B pour la Corse, 971 à 976 pour l'outre-mer, "
        "ou 99 pour une naissance à l'étranger.",
    ),
    (
        "1850320123456",
        NirErrorCode.CORSICA,
        "Pour une naissance en Corse à partir de 1976, les 6e et 7e "
        "caractères sont 2A (Corse-du-Sud) ou 2B (Haute-Corse), et non 20.",
    ),
    (
        "1850375000456",
        NirErrorCode.COMMUNE,
        "Le code de la commune de naissance (« 000 ») ne peut pas être "
        "composé uniquement de zéros : vérifiez les chiffres qui suivent le département.",
    ),
    (
        "1850397100456",
        NirErrorCode.COMMUNE,
        "Le code de la commune de naissance (« 00 ») ne peut pas être "
        "composé uniquement de zéros : vérifiez les chiffres qui suivent le département.",
    ),
    (
        "1850399000456",
        NirErrorCode.COUNTRY,
        "Après 99 (naissance à l'étranger), les 8e à 10e chiffres donnent "
        "le pays de naissance et ne peuvent pas être 000.",
    ),
    (
        "1850375123000",
        NirErrorCode.ORDER,
        "Les 11e à 13e chiffres (numéro d'ordre) ne peuvent pas être 000 : vérifiez-les.",
    ),
    (
        "295109912611194",
        NirErrorCode.KEY,
        "La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre.",
    ),
    (
        "253072A07300470",
        NirErrorCode.KEY,
        "La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre.",
    ),
]


class TestParseNirRejects:
    @pytest.mark.parametrize(("value", "code", "message"), REJECTED)
    def test_each_failure_has_its_code_and_message(self, value, code, message):
        with pytest.raises(NirError) as caught:
            parse_nir(value)
        assert caught.value.code == code
        assert caught.value.messages == [message]

    def test_every_code_is_tested(self):
        codes = {value for name, value in vars(NirErrorCode).items() if name.isupper()}
        assert codes == {code for _, code, _ in REJECTED}


class TestNirAgreesWith:
    @pytest.mark.parametrize(
        ("sex", "birth_date", "expected"),
        [
            (Sex.FEMALE, datetime.date(1953, 7, 2), True),
            (Sex.FEMALE, datetime.date(2053, 7, 2), True),
            (Sex.MALE, datetime.date(1953, 7, 2), False),
            (Sex.FEMALE, datetime.date(1954, 7, 2), False),
            (Sex.FEMALE, datetime.date(1953, 8, 2), False),
        ],
    )
    def test_sex_year_and_month(self, sex, birth_date, expected):
        assert parse_nir("253072B07300470").agrees_with(sex=sex, birth_date=birth_date) is expected

    def test_unknown_month_agrees_with_any_month(self):
        nir = parse_nir(with_key("2532075123456"))
        assert nir.agrees_with(sex=Sex.FEMALE, birth_date=datetime.date(1953, 11, 30))


class TestNirGenerate:
    @pytest.mark.parametrize("department", ["75", "2A", "2B", "971", "976", "99"])
    def test_department(self, department):
        nir = nir_generate(
            sex=Sex.MALE, birth_date=datetime.date(1990, 4, 1), rng=random.Random(1), department=department
        )
        assert nir.department == department

    def test_deterministic(self):
        def generate():
            return nir_generate(sex=Sex.FEMALE, birth_date=datetime.date(1985, 3, 14), rng=random.Random(42))

        assert generate() == generate()

    def test_invalid_department_is_refused(self):
        with pytest.raises(NirError):
            nir_generate(sex=Sex.FEMALE, birth_date=datetime.date(1985, 3, 14), rng=random.Random(1), department="00")


birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31))
sexes = st.sampled_from(Sex)
seeds = st.integers(min_value=0, max_value=2**32)


@st.composite
def generated_nirs(draw) -> tuple[Nir, Sex, datetime.date]:
    sex, birth_date = draw(sexes), draw(birth_dates)
    return nir_generate(sex=sex, birth_date=birth_date, rng=random.Random(draw(seeds))), sex, birth_date


class TestNirProperties:
    @given(generated_nirs())
    def test_generated_nirs_parse_back_to_the_same_fields(self, generated):
        nir, sex, birth_date = generated
        assert parse_nir(nir.with_key) == nir
        assert parse_nir(nir.number) == nir
        assert parse_nir(nir.formatted) == nir
        assert nir.agrees_with(sex=sex, birth_date=birth_date)
        assert stdnum_nir.is_valid(nir.with_key)

    @given(generated_nirs(), st.lists(st.tuples(st.integers(0, 15), st.sampled_from([" ", ".", "-", "  "]))))
    def test_separators_never_change_the_result(self, generated, insertions):
        nir = generated[0]
        text = nir.with_key.lower()
        for position, separator in sorted(insertions, reverse=True):
            text = text[:position] + separator + text[position:]
        assert parse_nir(text) == nir

    @given(generated_nirs(), st.integers(0, 14), st.integers(1, 9))
    def test_changing_one_digit_is_always_rejected(self, generated, position, shift):
        original = generated[0].with_key
        if original[position] not in "0123456789":
            return  # the A/B of 2A/2B is not a digit
        changed = original[:position] + str((int(original[position]) + shift) % 10) + original[position + 1 :]
        with pytest.raises(NirError):
            parse_nir(changed)

    @settings(max_examples=500)
    @given(st.text())
    def test_random_text_raises_nothing_but_nir_error(self, text):
        try:
            nir = parse_nir(text)
        except NirError as error:
            assert error.code.startswith("nir_")
            assert error.messages  # the message renders
        else:
            assert stdnum_nir.is_valid(nir.with_key)

    @given(st.text(alphabet="0123456789ABab .-", min_size=13, max_size=20))
    def test_nir_like_text_raises_nothing_but_nir_error(self, text):
        try:
            parse_nir(text)
        except NirError as error:
            assert error.messages
