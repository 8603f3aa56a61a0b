"""Synthetic data at national shape: members, beneficiaries, payments and their acts over 24 months.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portail_national \\
        python -m bench.generate --members 1000000 --payments 20000000

PostgreSQL is written with COPY (psycopg's cursor.copy()), SQLite with one executemany() per table; the ORM
only creates the fund and the few accounts the benchmarks log in with. Members are written in chunks of
10,000, each chunk in one transaction with its progress row, so an interrupted run starts again where it
stopped (same command). The anchor date, the sizes and the seed are kept in the database: a run with other
sizes against the same database is refused.

Every member's history is drawn from a generator seeded with the member's index and the anchor date, and
the number of payments per member follows the same law whatever the size: member 42 of a 10,000-member
database has the same payments as member 42 of the national one, so their payments pages can be compared
size against size (bench_payments_at_scale). Most members have a few payments, some have hundreds
(log-normal, median about half the mean). Every 100th member has an account whose personal code is
BENCH_CODE.
"""

import argparse
import datetime as dt
import math
import os
import random
import sys
import time
from decimal import Decimal

from bench.common import bar

CHUNK_MEMBERS = 10_000
MONTHS = 24
SEED = 2010
ACCOUNT_EVERY = 100
BENCH_CODE = "58310472"
# The benchmarks' servers run with this pepper, so that the accounts made here can log in there.
BENCH_PEPPER = "pepper-of-the-benchmark-databases-not-a-secret"
SIGMA = 1.2  # spread of the log-normal number of payments per member
MAX_PAYMENTS_PER_MEMBER = 1500
# Mainland departments only: every NIR then has a 3-digit commune and order number.
DEPARTMENTS = [f"{number:02d}" for number in range(1, 96) if number != 20]

LAST_NAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy "
    "Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefevre "
    "Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier Francois Legrand Gauthier Garcia Perrin Robin"
).split()
MALE_NAMES = "Jean Pierre Michel André Philippe Louis Nicolas Thomas Paul Hugo Lucas Léo Gabriel Arthur".split()
FEMALE_NAMES = "Marie Nathalie Isabelle Sylvie Catherine Anne Julie Camille Léa Emma Chloé Jade Louise Alice".split()
STREETS = "rue de la Paix,avenue Jean Jaurès,boulevard Victor Hugo,place de la République,rue des Écoles".split(",")
CITIES = (("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("33000", "Bordeaux"), ("59000", "Lille"))
PRACTITIONERS = (
    "Dr Claire Petit",
    "Dr Marc Lefebvre",
    "Dr Sophie Garnier",
    "Pharmacie du Centre",
    "Pharmacie de la Gare",
    "Laboratoire Bio Santé",
    "Cabinet de radiologie Lumière",
    "Cabinet infirmier Saint-Louis",
    "Kinésithérapie du Parc",
    "Centre dentaire Pasteur",
)
# (nature, practitioner indexes, charged, base, rate, flat fee, deductible, weight)
ACT_KINDS = (
    ("consultation", (0, 1, 2), "30.00", "30.00", "70", "2.00", "0.00", 30),
    ("specialist", (1, 2), "60.00", "50.00", "70", "2.00", "0.00", 8),
    ("pharmacy", (3, 4), "24.60", "24.60", "65", "0.00", "1.00", 35),
    ("laboratory", (5,), "41.20", "41.20", "60", "2.00", "0.00", 8),
    ("imaging", (6,), "75.00", "69.00", "70", "2.00", "0.00", 4),
    ("nursing", (7,), "18.40", "18.40", "60", "0.00", "1.00", 6),
    ("physiotherapy", (8,), "21.50", "21.50", "60", "0.00", "1.00", 5),
    ("dental", (9,), "80.00", "23.00", "70", "0.00", "0.00", 4),
)


def _act_templates() -> list[tuple[str, Decimal, tuple]]:
    """Every act the generator draws, as (weight-expanded) ready-to-write columns and its reimbursement."""
    templates = []
    for nature, practitioners, charged, base, rate, flat_fee, deductible, weight in ACT_KINDS:
        reimbursed = max(
            Decimal(base) * Decimal(rate) / 100 - Decimal(flat_fee) - Decimal(deductible), Decimal("0")
        ).quantize(Decimal("0.01"))
        for practitioner in practitioners:
            columns = (nature, PRACTITIONERS[practitioner], charged, base, rate, str(reimbursed), flat_fee, deductible)
            templates += [(reimbursed, columns)] * weight
    return templates


def nir_for(index: int, sex: str, birth_date: dt.date) -> str:
    """The 13-character NIR of member `index`: unique, valid, consistent with sex and birth date."""
    order = index % 999 + 1
    commune = (index // 999) % 999 + 1
    department = DEPARTMENTS[(index // (999 * 999)) % len(DEPARTMENTS)]
    return f"{sex}{birth_date.year % 100:02d}{birth_date.month:02d}{department}{commune:03d}{order:03d}"


class Shape:
    """The sizes, and everything drawn from them, for one database."""

    def __init__(self, *, members: int, payments: int, anchor: dt.date):
        self.members = members
        self.anchor = anchor
        self.mean = payments / members
        self.mu = math.log(self.mean) - SIGMA**2 / 2
        self.first_day = anchor - dt.timedelta(days=MONTHS * 30 + 10)
        self.days = (anchor - self.first_day).days
        self.templates = _act_templates()

    def member_history(self, index: int, fund_id: int, now: str):
        """One member, their beneficiaries and their payments with acts, as column tuples."""
        rng = random.Random(f"{SEED}-{self.anchor.isoformat()}-{index}")
        member_id = index + 1
        sex = "1" if rng.random() < 0.5 else "2"
        birth_date = dt.date(rng.randint(1940, 2006), rng.randint(1, 12), rng.randint(1, 28))
        first = rng.choice(MALE_NAMES if sex == "1" else FEMALE_NAMES)
        last = rng.choice(LAST_NAMES)
        postal_code, city = rng.choice(CITIES)
        member = (
            member_id,
            nir_for(index, sex, birth_date),
            last,
            first,
            birth_date.isoformat(),
            sex,
            f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
            "",
            postal_code,
            city,
            fund_id,
            "general",
            "",
            "Dr Claire Petit" if rng.random() < 0.85 else "",
            None,
            rng.random() < 0.1,
            now,
            now,
        )
        beneficiaries = []
        if rng.random() < 0.3:
            for child in range(rng.randint(1, 3)):
                beneficiaries.append(
                    (
                        member_id * 4 + child,
                        member_id,
                        last,
                        rng.choice(MALE_NAMES + FEMALE_NAMES),
                        dt.date(rng.randint(2008, 2025), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                    )
                )
        count = min(int(rng.lognormvariate(self.mu, SIGMA)) + 1, MAX_PAYMENTS_PER_MEMBER)
        days = sorted((rng.randrange(self.days) for _ in range(count)), reverse=True)
        payments = []
        for day in days:
            paid_on = self.first_day + dt.timedelta(days=day)
            acts = [rng.choice(self.templates) for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 3))]
            beneficiary = (
                beneficiaries[rng.randrange(len(beneficiaries))][0] if beneficiaries and rng.random() < 0.25 else None
            )
            payments.append(
                (
                    beneficiary,
                    paid_on,
                    sum((act[0] for act in acts), Decimal("0")),
                    "member" if rng.random() < 0.55 else "professional",
                    [((paid_on - dt.timedelta(days=rng.randint(2, 20))).isoformat(), *act[1]) for act in acts],
                )
            )
        return member, beneficiaries, payments


def raw_insert(model, rows: list[tuple], *, with_id: bool = True) -> None:
    """`rows` into `model`'s table as fast as the database takes them, without the ORM: COPY on PostgreSQL,
    one executemany on SQLite (values already as SQLite stores them). Rows hold every column of the table,
    in the model's field order, the id first if `with_id`; None is SQL NULL. The benchmarks' raw reference
    for the payment feed is this function too, with the feed's own writer (portail.benefits.feed.rows_write)."""
    from portail.benefits.feed import rows_write

    if not rows:
        return
    columns = tuple(field.column for field in model._meta.concrete_fields if with_id or not field.primary_key)
    if len(rows[0]) != len(columns):
        raise ValueError(f"{model._meta.db_table} has {len(columns)} columns, the rows {len(rows[0])}")
    rows_write(model, columns, rows)


def _ensure_tables(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_generator_meta (key varchar(40) PRIMARY KEY, value text)")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_generator_chunk (chunk integer PRIMARY KEY, members integer, "
            "payments integer, acts integer, seconds double precision)"
        )


def _meta(connection, members: int, payments: int, anchor: dt.date | None) -> dt.date:
    """The anchor date of this database's data; refuses other sizes (or anchor) than the first run's."""
    from django.db import transaction

    wanted = {"members": str(members), "payments": str(payments), "seed": str(SEED)}
    if anchor is not None:
        wanted["anchor"] = anchor.isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT key, value FROM bench_generator_meta")
        stored = dict(cursor.fetchall())
        if not stored:
            stored = {"anchor": dt.date.today().isoformat(), **wanted}
            for key, value in stored.items():
                cursor.execute("INSERT INTO bench_generator_meta (key, value) VALUES (%s, %s)", [key, value])
    for key, value in wanted.items():
        if stored.get(key) != value:
            raise SystemExit(
                f"This database was generated with {key}={stored.get(key)}, not {value}: "
                "use another database, or the first run's sizes to resume it."
            )
    return dt.date.fromisoformat(stored["anchor"])


def _done_chunks(connection) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT chunk FROM bench_generator_chunk")
        return {row[0] for row in cursor.fetchall()}


def _next_payment_id(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM benefits_payment")
        return cursor.fetchone()[0] + 1


def _write_chunk(shape: Shape, chunk: int, fund_id: int, password: str) -> tuple[int, int, int]:
    """Members [chunk * CHUNK_MEMBERS, ...) with their data; returns (members, payments, acts)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now().isoformat()
    first = chunk * CHUNK_MEMBERS
    last = min(first + CHUNK_MEMBERS, shape.members)
    payment_id = _next_payment_id(connection)
    members, beneficiaries, payments, lines = [], [], [], []
    for index in range(first, last):
        member, member_beneficiaries, history = shape.member_history(index, fund_id, now)
        members.append(member)
        beneficiaries += member_beneficiaries
        for beneficiary_id, paid_on, amount, payee, acts in history:
            payments.append(
                (payment_id, f"N{payment_id:011d}", member[0], beneficiary_id, paid_on.isoformat(), amount, payee, now)
            )
            lines += [(payment_id, *act) for act in acts]
            payment_id += 1
    from portail.benefits.models import Payment, PaymentLine
    from portail.registry.models import Beneficiary, Member

    raw_insert(Member, members)
    raw_insert(Beneficiary, beneficiaries)
    raw_insert(Payment, payments)
    raw_insert(PaymentLine, lines, with_id=False)
    _accounts(range(first, last), password)
    return len(members), len(payments), len(lines)


def bench_username(index: int) -> str:
    return f"bench-{index}"


def _accounts(indexes: range, password: str) -> None:
    """An account for every ACCOUNT_EVERY-th member, personal code BENCH_CODE (hashed once per run)."""
    from django.utils import timezone

    from portail.accounts.enums import SecretQuestion, UserKind
    from portail.accounts.models import Account, User

    chosen = [index for index in indexes if index % ACCOUNT_EVERY == 0]
    users = User.objects.bulk_create(
        User(username=bench_username(index), password=password, kind=UserKind.MEMBER) for index in chosen
    )
    now = timezone.now()
    Account.objects.bulk_create(
        Account(
            user=user,
            member_id=index + 1,
            secret_question=SecretQuestion.FIRST_PET,
            secret_answer_hash=password,
            terms_accepted_at=now,
        )
        for index, user in zip(chosen, users, strict=True)
    )


def _reset_sequences(connection) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("registry_member", "registry_beneficiary", "benefits_payment", "benefits_paymentline"):
            last = f"COALESCE((SELECT MAX(id) FROM {table}), 1)"  # noqa: S608 -- the tables named just above
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")


def generate(*, members: int, payments: int, anchor: dt.date | None = None, out=sys.stderr) -> dict:
    """Fill the current database (Django's default connection, migrated) up to the given shape."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from portail.registry.models import Fund

    _ensure_tables(connection)
    anchor = _meta(connection, members, payments, anchor)
    shape = Shape(members=members, payments=payments, anchor=anchor)
    fund, _ = Fund.objects.get_or_create(code="BENCH", defaults={"name": "Caisse nationale (données de mesure)"})
    chunks = math.ceil(members / CHUNK_MEMBERS)
    done = _done_chunks(connection)
    todo = [chunk for chunk in range(chunks) if chunk not in done]
    password = make_password(BENCH_CODE)
    started = time.perf_counter()
    written = {"members": 0, "payments": 0, "acts": 0}
    progress = bar(len(todo), f"chunks of {CHUNK_MEMBERS:,} members", unit="chunk", file=out)
    for chunk in todo:
        chunk_started = time.perf_counter()
        with transaction.atomic():
            counts = _write_chunk(shape, chunk, fund.pk, password)
            seconds = time.perf_counter() - chunk_started
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_generator_chunk (chunk, members, payments, acts, seconds) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [chunk, *counts, seconds],
                )
        for key, value in zip(written, counts, strict=True):
            written[key] += value
        progress.set_postfix_str(f"{sum(written.values()) / (time.perf_counter() - started):,.0f} rows/s")
        progress.update(1)
    progress.close()
    _reset_sequences(connection)
    if connection.vendor == "postgresql" and todo:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(members), 0), COALESCE(SUM(payments), 0), COALESCE(SUM(acts), 0) "
            "FROM bench_generator_chunk"
        )
        total_members, total_payments, total_acts = cursor.fetchone()
    rows = sum(written.values())
    return {
        "members": total_members,
        "payments": total_payments,
        "acts": total_acts,
        "anchor": anchor.isoformat(),
        "chunks_written_now": len(todo),
        "seconds_now": round(seconds, 1),
        "rows_per_second_now": round(rows / seconds) if todo and seconds else None,
    }


def _admin_connection(url: str):
    """A connection to the `postgres` database of the server of `url`, and the name of `url`'s database."""
    import dj_database_url
    import psycopg

    settings = dj_database_url.parse(url)
    return settings["NAME"], psycopg.connect(
        dbname="postgres",
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )


def fresh_postgresql_database(url: str) -> None:
    """Drop and create the database of a postgresql:// URL."""
    target, admin = _admin_connection(url)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target}"')


def ensure_postgresql_database(url: str) -> None:
    """CREATE DATABASE for a postgresql:// URL whose database does not exist yet."""
    target, admin = _admin_connection(url)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{target}"')


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=20_000_000)
    parser.add_argument(
        "--anchor",
        type=dt.date.fromisoformat,
        help="the last day of the 24 months (default: today, on the first run); give another database's anchor "
        "to give its first members the same histories",
    )
    arguments = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("Set DATABASE_URL to the database to fill (postgresql://... or sqlite:///...).")
    if url.startswith(("postgres://", "postgresql://")):
        ensure_postgresql_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
    os.environ.setdefault("PORTAIL_DEMO", "0")
    os.environ["PORTAIL_PEPPER"] = BENCH_PEPPER
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    print(f"Generating {arguments.members:,} members and about {arguments.payments:,} payments…", file=sys.stderr)
    summary = generate(members=arguments.members, payments=arguments.payments, anchor=arguments.anchor)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
