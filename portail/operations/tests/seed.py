"""Synthetic data made inside a portal process (`manage.py shell -c`), in bulk, for the resilience and load tests.

Every function prints one JSON document on standard output for the caller in the other process.
"""

import datetime as dt
import json
import random
from decimal import Decimal

PERSONAL_CODE = "48207315"


def _members(count: int, *, rng: random.Random, email: bool = False):
    from portail.registry.models import Fund, Member
    from portail.registry.nir import nir_generate

    fund, _ = Fund.objects.get_or_create(code="999", defaults={"name": "Caisse de démonstration"})
    nirs, members = {}, []
    while len(members) < count:
        birth_date = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(50 * 365))
        sex = rng.choice("12")
        nir = nir_generate(sex=sex, birth_date=birth_date, rng=rng)
        if nir.number in nirs:
            continue
        index = len(members)
        nirs[nir.number] = nir
        members.append(
            Member(
                nir=nir.number,
                last_name=f"Charge{index:05d}",
                first_names="Camille",
                birth_date=birth_date,
                sex=sex,
                address_line1=f"{index + 1} rue de l'Essai",
                postal_code="75011",
                city="Paris",
                fund=fund,
                email=f"assure{index:05d}@example.org" if email else "",
            )
        )
    return Member.objects.bulk_create(members), nirs


def members_with_accounts(count: int, *, payments_each: int = 20, seed: int = 1) -> None:
    """`count` members, each with an active account (personal code PERSONAL_CODE) and payments over
    the last 6 months (2 acts each). The one Argon2id hash is computed once and shared: same code,
    same production parameters, so each login still costs one full verify."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portail.accounts.enums import SecretQuestion, UserKind
    from portail.accounts.models import Account, User
    from portail.benefits.enums import ActNature, Payee
    from portail.benefits.models import Payment, PaymentLine

    rng = random.Random(seed)
    members, nirs = _members(count, rng=rng)
    code_hash, answer_hash = make_password(PERSONAL_CODE), make_password("medor")
    users = User.objects.bulk_create(
        User(username=f"assure-{member.nir}", kind=UserKind.MEMBER, password=code_hash) for member in members
    )
    now = timezone.now()
    Account.objects.bulk_create(
        Account(
            user=user,
            member=member,
            secret_question=SecretQuestion.FIRST_PET,
            secret_answer_hash=answer_hash,
            terms_accepted_at=now,
        )
        for user, member in zip(users, members, strict=True)
    )
    today = dt.date.today()
    payments = Payment.objects.bulk_create(
        Payment(
            external_id=f"SEED-{member.pk}-{index}",
            member=member,
            paid_on=today - dt.timedelta(days=(index * 9) % 175),
            amount=Decimal("41.30"),
            payee=Payee.MEMBER if index % 3 else Payee.PROFESSIONAL,
        )
        for member in members
        for index in range(payments_each)
    )
    PaymentLine.objects.bulk_create(
        PaymentLine(
            payment=payment,
            care_date=payment.paid_on - dt.timedelta(days=4),
            nature=ActNature.CONSULTATION if act == 0 else ActNature.PHARMACY,
            practitioner="Dr Paul Vidal" if act == 0 else "Pharmacie Centrale",
            amount_charged=Decimal("30.00"),
            base=Decimal("30.00"),
            rate=Decimal("70"),
            reimbursed=Decimal("21.00") if act == 0 else Decimal("22.30"),
            flat_fee=Decimal("2.00") if act == 0 else Decimal("0"),
        )
        for payment in payments
        for act in range(2)
    )
    print(json.dumps({"nirs": [nirs[member.nir].formatted for member in members], "code": PERSONAL_CODE}))


def outbox_fill(letters: int, *, email_every: int = 20, seed: int = 2) -> None:
    """`letters` provisional-code letters and one e-mail every `email_every` letters, interleaved in the
    queue, each saved and enqueued by the real services inside one committed transaction."""
    from django.db import transaction
    from django.utils import timezone

    from portail.post.enums import EmailKind, LetterKind
    from portail.post.services import email_enqueue, letter_enqueue

    rng = random.Random(seed)
    members, _ = _members(letters, rng=rng, email=True)
    today = timezone.localdate()
    email_ids = []
    with transaction.atomic():
        for index, member in enumerate(members):
            letter_enqueue(
                member=member,
                kind=LetterKind.PROVISIONAL_CODE,
                context={"issued_at": today.isoformat(), "expires_at": (today + dt.timedelta(days=15)).isoformat()},
                secret_context={"code": f"{rng.randrange(10**8):08d}"},
            )
            if index % email_every == 0:
                email = email_enqueue(
                    to=member.email,
                    subject="Votre courrier est en route",
                    body="Bonjour,\n\nUn courrier vous a été envoyé par la poste.\n",
                    kind=EmailKind.OTHER,
                    member=member,
                )
                email_ids.append(email.pk)
    print(json.dumps({"letters": len(members), "emails": email_ids}))
