"""factory-boy factories for the register, for every app's tests. Synthetic data only (Faker fr_FR)."""

import datetime

import factory
import factory.random
from django.utils.text import slugify

from portail.registry.enums import Scheme, Sex
from portail.registry.models import Beneficiary, Fund, Member
from portail.registry.nir import nir_generate


def _fr(provider: str, **kwargs) -> factory.Faker:
    return factory.Faker(provider, locale="fr_FR", **kwargs)


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ["code"]

    code = "999"
    name = "Caisse d'assurance maladie de test"


class MemberFactory(factory.django.DjangoModelFactory):
    """An eligible member with a valid NIR consistent with sex and birth date.

    Traits: `with_doctor=True` (a declared primary doctor), `ineligible=True` (scheme managed elsewhere).
    """

    class Meta:
        model = Member

    class Params:
        doctor_last_name = _fr("last_name")
        with_doctor = factory.Trait(
            doctor_name=factory.LazyAttribute(lambda member: f"Dr {member.doctor_last_name}"),
            doctor_since=_fr("date_between", start_date="-10y", end_date="-30d"),
        )
        ineligible = factory.Trait(scheme=Scheme.LOCAL_MUTUAL_SECTION)

    sex = factory.Iterator([Sex.FEMALE, Sex.MALE])
    birth_date = _fr("date_of_birth", minimum_age=18, maximum_age=90)
    nir = factory.LazyAttribute(
        lambda member: nir_generate(sex=member.sex, birth_date=member.birth_date, rng=factory.random.randgen).number
    )
    last_name = _fr("last_name")
    first_names = factory.Maybe(
        factory.LazyAttribute(lambda member: member.sex == Sex.FEMALE),
        yes_declaration=_fr("first_name_female"),
        no_declaration=_fr("first_name_male"),
    )
    address_line1 = _fr("street_address")
    address_line2 = ""
    postal_code = _fr("postcode")
    city = _fr("city")
    fund = factory.SubFactory(FundFactory)
    scheme = Scheme.GENERAL
    email = factory.LazyAttribute(
        lambda member: f"{slugify(member.first_names)}.{slugify(member.last_name)}@example.org"
    )
    doctor_name = ""
    doctor_since = None
    statements_to_complementary = False


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Beneficiary

    member = factory.SubFactory(MemberFactory)
    last_name = factory.SelfAttribute("member.last_name")
    first_names = _fr("first_name")
    birth_date = _fr("date_between", start_date=datetime.date(2008, 1, 1), end_date=datetime.date(2024, 12, 31))
