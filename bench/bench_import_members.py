"""Register import: `import_members` on a synthetic CSV against a raw executemany of the same rows."""

import csv
import datetime
import io
import random
import statistics
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from bench.common import bar, median_and_spread
from portail.registry.enums import Sex
from portail.registry.importing import REQUIRED_COLUMNS
from portail.registry.models import Fund, Member
from portail.registry.nir import nir_generate

SEED = 1946
FUND_CODE = "BENCH"


def synthetic_rows(count: int) -> list[dict[str, str]]:
    """`count` distinct synthetic members (Faker fr_FR, drawn from a small pool so generation stays quick)."""
    rng = random.Random(SEED)
    fake = Faker("fr_FR")
    fake.seed_instance(SEED)
    last_names = [fake.last_name() for _ in range(500)]
    first_names = {Sex.FEMALE: [fake.first_name_female() for _ in range(200)]}
    first_names[Sex.MALE] = [fake.first_name_male() for _ in range(200)]
    streets = [fake.street_address() for _ in range(1000)]
    places = [(fake.postcode(), fake.city()) for _ in range(1000)]
    rows, seen = [], set()
    while len(rows) < count:
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        birth_date = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 24000))
        nir = nir_generate(sex=sex, birth_date=birth_date, rng=rng)
        if nir.number in seen:
            continue
        seen.add(nir.number)
        postal_code, city = rng.choice(places)
        has_doctor = rng.random() < 0.8
        rows.append(
            {
                "nir": nir.with_key,
                "last_name": rng.choice(last_names),
                "first_names": rng.choice(first_names[sex]),
                "birth_date": birth_date.isoformat(),
                "sex": str(sex),
                "address_line1": rng.choice(streets),
                "address_line2": "",
                "postal_code": postal_code,
                "city": city,
                "email": f"assure{len(rows)}@example.org" if rng.random() < 0.6 else "",
                "doctor_name": f"Dr {rng.choice(last_names)}" if has_doctor else "",
                "doctor_since": "2018-05-01" if has_doctor else "",
                "statements_to_complementary": "1" if rng.random() < 0.05 else "0",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REQUIRED_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def raw_values(rows: list[dict[str, str]], fund_id: int) -> list[tuple]:
    now = timezone.now()
    return [
        (
            row["nir"][:13],
            row["last_name"],
            row["first_names"],
            datetime.date.fromisoformat(row["birth_date"]),
            row["sex"],
            row["address_line1"],
            row["address_line2"],
            row["postal_code"],
            row["city"],
            fund_id,
            "general",
            row["email"],
            row["doctor_name"],
            datetime.date.fromisoformat(row["doctor_since"]) if row["doctor_since"] else None,
            row["statements_to_complementary"] == "1",
            now,
            now,
        )
        for row in rows
    ]


RAW_COLUMNS = (
    "nir, last_name, first_names, birth_date, sex, address_line1, address_line2, postal_code, city, fund_id, "
    "scheme, email, doctor_name, doctor_since, statements_to_complementary, created_at, updated_at"
)


def time_import(path: Path) -> float:
    started = time.perf_counter()
    call_command("import_members", str(path), fund=FUND_CODE, stdout=io.StringIO(), stderr=io.StringIO())
    return time.perf_counter() - started


def time_raw_insert(values: list[tuple]) -> float:
    table = Member._meta.db_table
    placeholders = ", ".join(["%s"] * len(values[0]))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({RAW_COLUMNS}) VALUES ({placeholders})", values)  # noqa: S608
    return time.perf_counter() - started


def run(quick: bool) -> dict:
    count = 5_000 if quick else 100_000
    repeats = 3
    rows = synthetic_rows(count)
    fund, _ = Fund.objects.get_or_create(code=FUND_CODE, defaults={"name": "Caisse de mesure"})
    values = raw_values(rows, fund.pk)
    import_seconds, reimport_seconds, raw_seconds = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "assures.csv"
        write_csv(path, rows)
        with bar(repeats * 3, f"{count:,} rows: import, import again unchanged, raw executemany") as progress:
            for _ in range(repeats):
                Member.objects.all().delete()
                import_seconds.append(time_import(path))
                assert Member.objects.count() == count
                progress.update(1)
                reimport_seconds.append(time_import(path))
                progress.update(1)
                Member.objects.all().delete()
                raw_seconds.append(time_raw_insert(values))
                assert Member.objects.count() == count
                progress.update(1)
    import_median, import_spread = median_and_spread(import_seconds)
    raw_median, raw_spread = median_and_spread(raw_seconds)
    return {
        "rows": count,
        "repeats": repeats,
        "import_rows_per_second": round(count / import_median),
        "import_seconds_median_and_spread": f"{import_median:.2f} ± {import_spread / 2:.2f}",
        "reimport_unchanged_rows_per_second": round(count / statistics.median(reimport_seconds)),
        "raw_executemany_rows_per_second": round(count / raw_median),
        "raw_seconds_median_and_spread": f"{raw_median:.2f} ± {raw_spread / 2:.2f}",
        "import_to_raw_ratio": round(raw_median / import_median, 3),
    }
