"""The demo account: anyone can open it from the public pages ("Voir la démo"),
without credentials, to see what an account looks like. Read-only, with
invented payments and statements, kept current relative to today. It replaces
the historical service's Flash demo.
"""

import datetime as dt
import json
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from portail.accounts.enums import SecretQuestion, UserKind
from portail.accounts.models import Account, User
from portail.benefits.enums import ActNature, Payee, StatementDelivery
from portail.benefits.feed import payments_import
from portail.benefits.models import Payment, Statement, months_before
from portail.registry.enums import Sex
from portail.registry.models import Beneficiary, Fund, Member

DEMO_USERNAME = "compte-de-demonstration"
# A synthetic NIR (valid key), born abroad (99) in an unknown month (20): it matches nobody's birth date.
DEMO_NIR = "2852099135042"
DEMO_MONTHS = 8

_ACTS = [
    (ActNature.CONSULTATION, "Dr Hélène Garnier", Decimal("30.00"), Decimal("70"), Decimal("2.00")),
    (ActNature.PHARMACY, "Pharmacie du Marché", Decimal("14.90"), Decimal("65"), Decimal("0.00")),
    (ActNature.LABORATORY, "Laboratoire Bioanalyse", Decimal("42.30"), Decimal("60"), Decimal("0.00")),
    (ActNature.PHYSIOTHERAPY, "Julien Fabre, masseur-kinésithérapeute", Decimal("18.00"), Decimal("60"), Decimal("0")),
    (ActNature.SPECIALIST, "Dr Karim Benali, dermatologue", Decimal("60.00"), Decimal("70"), Decimal("2.00")),
]


def _demo_member(fund: Fund) -> Member:
    member, _ = Member.objects.get_or_create(
        nir=DEMO_NIR,
        defaults={
            "last_name": "Exemple",
            "first_names": "Claire",
            "birth_date": dt.date(1985, 6, 1),
            "sex": Sex.FEMALE,
            "address_line1": "10 place de la Démonstration",
            "postal_code": "75010",
            "city": "Paris",
            "fund": fund,
            "doctor_name": "Dr Hélène Garnier",
            "doctor_since": dt.date(2020, 2, 3),
        },
    )
    for first_names, birth_date in (("Lucas", dt.date(2014, 4, 12)), ("Zoé", dt.date(2018, 10, 30))):
        Beneficiary.objects.get_or_create(
            member=member, first_names=first_names, defaults={"last_name": "Exemple", "birth_date": birth_date}
        )
    return member


def _payment_lines(member: Member, today: dt.date) -> list[str]:
    """JSON lines for the claims feed: a few payments a month, the same for a given month on every run."""
    children = list(member.beneficiaries.order_by("birth_date"))
    lines = []
    for months_ago in range(DEMO_MONTHS):
        month = months_before(today, months_ago)
        rng = random.Random(f"demo-account-{month:%Y-%m}")  # noqa: S311 (invented data, no secret)
        for index in range(rng.randint(2, 4)):
            paid_on = month + dt.timedelta(days=rng.randint(2, 27))
            if paid_on > today:
                continue
            acts = []
            for _ in range(rng.randint(1, 3)):
                nature, practitioner, charged, rate, flat_fee = rng.choice(_ACTS)
                reimbursed = (charged * rate / 100).quantize(Decimal("0.01"))
                acts.append(
                    {
                        "care_date": (paid_on - dt.timedelta(days=rng.randint(2, 9))).isoformat(),
                        "nature": nature.value,
                        "practitioner": practitioner,
                        "amount_charged": str(charged),
                        "base": str(charged),
                        "rate": str(rate),
                        "reimbursed": str(reimbursed),
                        "flat_fee": str(flat_fee),
                        "deductible": "0.50" if nature == ActNature.PHARMACY else "0.00",
                    }
                )
            amount = sum(Decimal(a["reimbursed"]) - Decimal(a["flat_fee"]) - Decimal(a["deductible"]) for a in acts)
            child = rng.choice([None, *children]) if children else None
            lines.append(
                json.dumps(
                    {
                        "id": f"DEMO-{month:%Y%m}-{index}",
                        "nir": member.nir,
                        "beneficiary": None
                        if child is None
                        else {
                            "last_name": child.last_name,
                            "first_names": child.first_names,
                            "birth_date": child.birth_date.isoformat(),
                        },
                        "paid_on": paid_on.isoformat(),
                        "amount": str(amount),
                        "payee": Payee.PROFESSIONAL.value if nature == ActNature.PHARMACY else Payee.MEMBER.value,
                        "lines": acts,
                    }
                )
            )
    return lines


def _statements(member: Member, today: dt.date) -> None:
    """One online statement for each past month with payments (the demo member only)."""
    current = today.replace(day=1)
    for months_ago in range(1, DEMO_MONTHS):
        month = months_before(current, months_ago)
        figures = Payment.objects.for_member(member).in_month(month).aggregate(count=Count("pk"), total=Sum("amount"))
        if figures["count"]:
            Statement.objects.get_or_create(
                member=member,
                month=month,
                defaults={
                    "delivery": StatementDelivery.ONLINE,
                    "payment_count": figures["count"],
                    "total_paid": figures["total"],
                },
            )


@transaction.atomic
def demo_account_ensure(*, today: dt.date | None = None) -> Account:
    """Create the demo account, or bring its payments and statements up to date. Idempotent."""
    today = today or timezone.localdate()
    fund, _ = Fund.objects.get_or_create(code="DEMO", defaults={"name": settings.PORTAIL_FUND_NAME})
    member = _demo_member(fund)
    account = Account.objects.filter(member=member, is_demo=True).select_related("user").first()
    if account is None:
        user = User.objects.create(username=DEMO_USERNAME, kind=UserKind.MEMBER, password=make_password(None))
        account = Account.objects.create(
            user=user,
            member=member,
            is_demo=True,
            secret_question=SecretQuestion.FIRST_PET,
            secret_answer_hash=make_password(None),
            terms_accepted_at=timezone.now(),
        )
    if (
        not Payment.objects.filter(member=member, external_id__startswith=f"DEMO-{today:%Y%m}").exists()
        or not Statement.objects.filter(member=member).exists()
    ):
        payments_import(lines=_payment_lines(member, today), source="compte de démonstration")
        _statements(member, today)
    return account
