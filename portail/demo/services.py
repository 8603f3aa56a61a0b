"""Demo data: a small synthetic register, the same on every run (`manage.py demo_data`, run by `make run`)."""

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from faker import Faker

from portail.registry.enums import Scheme, Sex
from portail.registry.models import Beneficiary, Fund, Member
from portail.registry.nir import nir_generate
from portail.registry.services import MemberData, UpsertCounts, members_upsert

DEMO_SEED = 20100615
DEMO_FUND_CODE = "DEMO"
DEMO_MEMBER_COUNT = 60
DEMO_EMAIL_DOMAIN = "example.org"

# The two identities printed at start-up to try the journeys with. Written out (not drawn) so that they stay
# the same whatever the Faker version. Synthetic: any resemblance to a real person is a coincidence.
DEMO_IDENTITIES = (
    MemberData(
        nir="2850369138583",
        last_name="Lefèvre",
        first_names="Camille",
        birth_date=datetime.date(1985, 3, 14),
        sex=Sex.FEMALE,
        address_line1="12 rue des Tanneurs",
        address_line2="Bâtiment B, 3e étage",
        postal_code="69003",
        city="Lyon",
        email=f"camille.lefevre@{DEMO_EMAIL_DOMAIN}",
        doctor_name="Dr Hélène Garnier",
        doctor_since=datetime.date(2019, 9, 2),
    ),
    MemberData(
        nir="172112A979884",
        last_name="Santoni",
        first_names="Jean-Baptiste",
        birth_date=datetime.date(1972, 11, 5),
        sex=Sex.MALE,
        address_line1="4 boulevard Longchamp",
        postal_code="13001",
        city="Marseille",
    ),
)
# (first names, birth date) of the first identity's children.
DEMO_IDENTITY_BENEFICIARIES = (("Léo", datetime.date(2012, 6, 21)), ("Inès", datetime.date(2016, 1, 9)))


@dataclass(frozen=True)
class DemoDataResult:
    counts: UpsertCounts
    member_count: int
    beneficiary_count: int
    identities: tuple[MemberData, ...]


def _random_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def _demo_members() -> tuple[list[MemberData], list[tuple[str, str, str, datetime.date]]]:
    """Deterministic members and beneficiaries (member NIR, last name, first names, birth date)."""
    rng = random.Random(DEMO_SEED)  # noqa: S311 (synthetic demo data, reproducible on purpose)
    fake = Faker("fr_FR")
    fake.seed_instance(DEMO_SEED)
    members = list(DEMO_IDENTITIES)
    beneficiaries = [
        (DEMO_IDENTITIES[0].nir, DEMO_IDENTITIES[0].last_name, first_names, birth_date)
        for first_names, birth_date in DEMO_IDENTITY_BENEFICIARIES
    ]
    nirs = {member.nir for member in members}
    while len(members) < DEMO_MEMBER_COUNT:
        index = len(members)
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        birth_date = _random_date(rng, datetime.date(1940, 1, 1), datetime.date(2005, 12, 31))
        nir = nir_generate(sex=sex, birth_date=birth_date, rng=rng).number
        if nir in nirs:
            continue
        nirs.add(nir)
        first_names = fake.first_name_female() if sex == Sex.FEMALE else fake.first_name_male()
        last_name = fake.last_name()
        has_doctor = rng.random() < 0.85
        members.append(
            MemberData(
                nir=nir,
                last_name=last_name,
                first_names=first_names,
                birth_date=birth_date,
                sex=sex,
                address_line1=fake.street_address(),
                address_line2=fake.random_element(("", "", "", "Appartement 12", "Résidence Les Tilleuls")),
                postal_code=fake.postcode(),
                city=fake.city(),
                email=f"demo{index:02d}@{DEMO_EMAIL_DOMAIN}" if rng.random() < 0.7 else "",
                doctor_name=f"Dr {fake.first_name()} {fake.last_name()}" if has_doctor else "",
                doctor_since=(
                    _random_date(rng, datetime.date(2006, 1, 1), datetime.date(2024, 12, 31)) if has_doctor else None
                ),
                statements_to_complementary=index % 10 == 3,
                scheme=Scheme.LOCAL_MUTUAL_SECTION if index in (7, 31) else Scheme.GENERAL,
            )
        )
        if rng.random() < 0.25:
            for _ in range(rng.randint(1, 3)):
                child_birth = _random_date(rng, datetime.date(2008, 1, 1), datetime.date(2024, 6, 30))
                beneficiaries.append((nir, last_name, fake.first_name(), child_birth))
    return members, beneficiaries


@transaction.atomic
def demo_data_load() -> DemoDataResult:
    """Create or refresh the demo register: idempotent, so `make run` calls it on every start."""
    fund, _created = Fund.objects.update_or_create(code=DEMO_FUND_CODE, defaults={"name": settings.PORTAIL_FUND_NAME})
    members, beneficiaries = _demo_members()
    counts = members_upsert(members=members, fund=fund)

    member_ids = dict(Member.objects.filter(nir__in=[m.nir for m in members]).values_list("nir", "pk"))
    wanted = {(member_ids[nir], last, first, birth) for nir, last, first, birth in beneficiaries}
    existing = {
        (row[1], row[2], row[3], row[4]): row[0]
        for row in Beneficiary.objects.filter(member_id__in=member_ids.values()).values_list(
            "pk", "member_id", "last_name", "first_names", "birth_date"
        )
    }
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        Beneficiary.objects.filter(pk__in=stale).delete()
    Beneficiary.objects.bulk_create(
        Beneficiary(member_id=member_id, last_name=last, first_names=first, birth_date=birth)
        for member_id, last, first, birth in sorted(wanted - existing.keys())
    )
    return DemoDataResult(
        counts=counts,
        member_count=len(members),
        beneficiary_count=len(wanted),
        identities=DEMO_IDENTITIES,
    )
