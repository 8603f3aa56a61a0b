"""Payment feed: `import_payments` on a synthetic JSON Lines file against a raw bulk insert of the same rows.

The raw insert is the floor: the same payments and acts, already resolved to member ids, written with
COPY (PostgreSQL, psycopg's cursor.copy()) or one executemany() per table (SQLite). The import also reads
and validates every line, looks members and beneficiaries up and checks for known ids.
"""

import datetime
import io
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from bench.common import bar, median_and_spread
from bench.generate import raw_insert
from portail.benefits.enums import ActNature, Payee
from portail.benefits.models import ACT_FIELDS, Payment, PaymentImportRun, PaymentLine
from portail.registry.enums import Sex
from portail.registry.models import Beneficiary, Fund, Member
from portail.registry.nir import nir_generate
from portail.registry.services import MemberData, members_upsert

SEED = 2010
FUND_CODE = "BENCH"
# Each repeat: import, import again, raw insert, one after the other (so that a busy machine weighs on the
# three alike).
REPEATS = 3
NATURES = [nature for nature in ActNature.values if nature != ActNature.SICK_LEAVE]


def progress(message: str) -> None:
    print(f"   … {message}", file=sys.stderr, flush=True)


def members_create(count: int, rng: random.Random) -> list[tuple[int, str, dict | None]]:
    """`count` members through the register's own upsert, a fifth with a child; (member id, NIR, child)."""
    fake = Faker("fr_FR")
    fake.seed_instance(SEED)
    last_names = [fake.last_name() for _ in range(300)]
    first_names = [fake.first_name() for _ in range(200)]
    fund, _created = Fund.objects.get_or_create(code=FUND_CODE, defaults={"name": "Caisse de mesure"})
    members, keys, seen = [], {}, set()
    while len(members) < count:
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        birth_date = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randint(0, 18000))
        nir = nir_generate(sex=sex, birth_date=birth_date, rng=rng)
        if nir.number in seen:
            continue
        seen.add(nir.number)
        keys[nir.number] = nir.with_key
        members.append(
            MemberData(
                nir=nir.number,
                last_name=rng.choice(last_names),
                first_names=rng.choice(first_names),
                birth_date=birth_date,
                sex=sex,
                address_line1="1 rue de l'Exemple",
                postal_code="75001",
                city="Paris",
            )
        )
    for start in range(0, count, 2000):
        members_upsert(members=members[start : start + 2000], fund=fund)
    ids = dict(Member.objects.filter(fund=fund).values_list("nir", "pk"))
    children = [
        Beneficiary(
            member_id=ids[member.nir],
            last_name=member.last_name,
            first_names=rng.choice(first_names),
            birth_date=datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randint(0, 3000)),
        )
        for member in members[: count // 5]
    ]
    Beneficiary.objects.bulk_create(children)
    by_member = {
        child.member_id: {
            "last_name": child.last_name,
            "first_names": child.first_names,
            "birth_date": child.birth_date.isoformat(),
        }
        for child in Beneficiary.objects.filter(member__fund=fund)
    }
    return [(ids[member.nir], keys[member.nir], by_member.get(ids[member.nir])) for member in members]


def synthetic_payments(count: int, members: list, rng: random.Random) -> list[dict]:
    """`count` payments of 1 to 4 acts each (2.5 on average); a tenth for a member's child."""
    fake = Faker("fr_FR")
    fake.seed_instance(SEED + 1)
    practitioners = [f"Dr {fake.first_name()} {fake.last_name()}" for _ in range(300)]
    today = datetime.date.today()
    payments = []
    for index in range(count):
        member_id, nir, child = rng.choice(members)
        paid_on = today - datetime.timedelta(days=rng.randint(1, 180))
        lines = []
        for _act in range(rng.randint(1, 4)):
            base = Decimal(rng.randint(500, 12000)) / 100
            rate = rng.choice((Decimal("60"), Decimal("70"), Decimal("100")))
            reimbursed = (base * rate / 100).quantize(Decimal("0.01"))
            flat_fee = Decimal("2.00") if rng.random() < 0.4 and reimbursed > 2 else Decimal("0.00")
            lines.append(
                {
                    "care_date": (paid_on - datetime.timedelta(days=rng.randint(2, 20))).isoformat(),
                    "nature": rng.choice(NATURES),
                    "practitioner": rng.choice(practitioners),
                    "amount_charged": str(base + rng.choice((0, 0, 5, 20))),
                    "base": str(base),
                    "rate": str(rate),
                    "reimbursed": str(reimbursed),
                    "flat_fee": str(flat_fee),
                    "deductible": "0.00",
                }
            )
        amount = sum(Decimal(line["reimbursed"]) - Decimal(line["flat_fee"]) for line in lines)
        payments.append(
            {
                "id": f"BENCH-{index:09d}",
                "nir": nir,
                "beneficiary": child if child and rng.random() < 0.5 else None,
                "paid_on": paid_on.isoformat(),
                "amount": str(amount),
                "payee": Payee.MEMBER if rng.random() < 0.7 else Payee.PROFESSIONAL,
                "lines": lines,
                "_member_id": member_id,
            }
        )
    return payments


def write_jsonl(path: Path, payments: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for payment in payments:
            handle.write(json.dumps({k: v for k, v in payment.items() if k != "_member_id"}, ensure_ascii=False))
            handle.write("\n")


def raw_rows(payments: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """The same rows, resolved (member and beneficiary ids), with explicit payment ids."""
    children = {
        (member_id, first_names, birth_date): pk
        for pk, member_id, first_names, birth_date in Beneficiary.objects.values_list(
            "pk", "member_id", "first_names", "birth_date"
        )
    }
    now = timezone.now()
    payment_rows, line_rows = [], []
    for pk, payment in enumerate(payments, start=1):
        child = payment["beneficiary"]
        child_id = (
            children[(payment["_member_id"], child["first_names"], datetime.date.fromisoformat(child["birth_date"]))]
            if child
            else None
        )
        paid_on = datetime.date.fromisoformat(payment["paid_on"])
        payment_rows.append(
            (
                pk,
                payment["id"],
                payment["_member_id"],
                child_id,
                paid_on,
                Decimal(payment["amount"]),
                payment["payee"],
                now,
            )
        )
        for line in payment["lines"]:
            line_rows.append(
                (
                    pk,
                    datetime.date.fromisoformat(line["care_date"]),
                    line["nature"],
                    line["practitioner"],
                    *(Decimal(line[name]) for name in ACT_FIELDS[3:]),
                )
            )
    return payment_rows, line_rows


def tables_clean() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PaymentLine._meta.db_table}")  # noqa: S608
        cursor.execute(f"DELETE FROM {Payment._meta.db_table}")  # noqa: S608
    PaymentImportRun.objects.all().delete()


def time_import(path: Path) -> float:
    started = time.perf_counter()
    call_command("import_payments", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return time.perf_counter() - started


def _adapt(rows: list[tuple]) -> list[tuple]:
    """Values as the ORM hands them to the driver (SQLite stores dates and decimals as text)."""
    ops = connection.ops
    adapted = []
    for row in rows:
        values = []
        for value in row:
            if isinstance(value, datetime.datetime):
                value = ops.adapt_datetimefield_value(value)
            elif isinstance(value, datetime.date):
                value = ops.adapt_datefield_value(value)
            elif isinstance(value, Decimal):
                value = str(value)
            values.append(value)
        adapted.append(tuple(values))
    return adapted


def time_raw_insert(payment_rows: list[tuple], line_rows: list[tuple]) -> float:
    if connection.vendor != "postgresql":
        payment_rows, line_rows = _adapt(payment_rows), _adapt(line_rows)
    started = time.perf_counter()
    with transaction.atomic():
        raw_insert(Payment, payment_rows)
        raw_insert(PaymentLine, line_rows, with_id=False)
    return time.perf_counter() - started


def run(quick: bool) -> dict:
    count = 5_000 if quick else 20_000
    member_count = 1_000 if quick else 4_000
    repeats = REPEATS
    rng = random.Random(SEED)
    progress(f"creating {member_count} members through the register's upsert")
    members = members_create(member_count, rng)
    progress(f"generating {count} synthetic payments")
    payments = synthetic_payments(count, members, rng)
    payment_rows, line_rows = raw_rows(payments)
    import_seconds, reimport_seconds, raw_seconds = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "paiements.jsonl"
        write_jsonl(path, payments)
        description = f"{count:,} payments: import, import again known, raw insert ({connection.vendor})"
        with bar(repeats * 3, description) as progress_bar:
            for _ in range(repeats):
                tables_clean()
                import_seconds.append(time_import(path))
                assert Payment.objects.count() == count, PaymentImportRun.objects.first().rejections[:3]
                assert PaymentLine.objects.count() == len(line_rows)
                progress_bar.update(1)
                reimport_seconds.append(time_import(path))
                progress_bar.update(1)
                tables_clean()
                raw_seconds.append(time_raw_insert(payment_rows, line_rows))
                assert Payment.objects.count() == count
                progress_bar.update(1)
        tables_clean()
    import_median, import_spread = median_and_spread(import_seconds)
    reimport_median, reimport_spread = median_and_spread(reimport_seconds)
    raw_median, raw_spread = median_and_spread(raw_seconds)
    # Each repeat's ratio, import and raw insert measured one after the other: the steadier figure when the
    # machine's load changes from one repeat to the next.
    ratios = sorted(raw / imported for imported, raw in zip(import_seconds, raw_seconds, strict=True))
    return {
        "payments": count,
        "acts": len(line_rows),
        "members": member_count,
        "repeats": repeats,
        "import_payments_per_second": round(count / import_median),
        "import_acts_per_second": round(len(line_rows) / import_median),
        "import_seconds_median_and_spread": f"{import_median:.3f} ± {import_spread / 2:.3f}",
        "reimport_known_payments_per_second": round(count / reimport_median),
        "reimport_seconds_median_and_spread": f"{reimport_median:.3f} ± {reimport_spread / 2:.3f}",
        "raw_insert": "COPY" if connection.vendor == "postgresql" else "executemany",
        "raw_payments_per_second": round(count / raw_median),
        "raw_seconds_median_and_spread": f"{raw_median:.3f} ± {raw_spread / 2:.3f}",
        "import_to_raw_ratio": round(raw_median / import_median, 3),
        "import_to_raw_ratio_per_repeat": ", ".join(f"{ratio:.2f}" for ratio in ratios),
        "target": "ratio >= 0.5",
    }
