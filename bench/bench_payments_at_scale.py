"""Figure 6: the payments page's p50 and p99 at national shape beside the same pages at 10,000 members.

Two databases filled by bench/generate.py with the same law (20 payments per member on average, over 24
months, from the same anchor date): the large one and the small one. Member n has the same history in
both, so the same members' pages are asked of both, through two gunicorn servers (one sync worker each,
production settings) in alternating rounds. If the index plan holds, the large database costs no more per
page: the ratio stays near 1.

Full run: PostgreSQL, 1,000,000 members / 20,000,000 payments (BENCH_NATIONAL_URL, default
postgresql://postgres@127.0.0.1:5432/portail_national) beside 10,000 / 200,000 (BENCH_SMALL_URL, default
.../portail_bench_10k). The generator resumes where it stopped; the national one takes about 15 minutes
the first time on 2 cores. Quick run: SQLite, 10,000 members beside 1,000, in the run's temporary directory.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.common import bar, percentile
from bench.generate import ACCOUNT_EVERY, BENCH_CODE, _admin_connection
from bench.server import PROJECT_DIR, PortalServer, Visitor

POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/"
PAYMENTS_PER_MEMBER = 20


def _generate(url: str, members: int, anchor: str | None = None) -> dict:
    """Run the generator (resumable) on `url`; returns its summary lines."""
    command = [sys.executable, "-m", "bench.generate", "--members", str(members)]
    command += ["--payments", str(members * PAYMENTS_PER_MEMBER)]
    if anchor:
        command += ["--anchor", anchor]
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_DIR)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # Its progress bar goes to our stderr; its summary comes back on stdout.
    done = subprocess.run(command, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"generator failed on {url.rsplit('/', 1)[-1]}:\n{done.stdout}")
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


def _nirs(url: str, member_ids: list[int]) -> list[str]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            marks = ", ".join("?" * len(member_ids))
            query = f"SELECT nir FROM registry_member WHERE id IN ({marks}) ORDER BY id"  # noqa: S608 -- only ?s
            rows = connection.execute(query, member_ids)
            return [row[0] for row in rows]
    import psycopg

    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT nir FROM registry_member WHERE id = ANY(%s) ORDER BY id", [member_ids])
        return [row[0] for row in rows]


def _plans(url: str, member_id: int) -> dict[str, str]:
    """How PostgreSQL reads one member's 6 months of payments and their acts: the scans and indexes used."""
    import psycopg

    def scans(node: dict) -> list[str]:
        found = [f"{node['Node Type']} on {node.get('Index Name') or node.get('Relation Name')}"]
        found = found if "Scan" in node["Node Type"] else []
        return found + [scan for child in node.get("Plans", []) for scan in scans(child)]

    queries = {
        "plan_payments": (
            "SELECT p.id, p.paid_on, p.amount, p.payee, b.first_names FROM benefits_payment p "
            "LEFT JOIN registry_beneficiary b ON b.id = p.beneficiary_id WHERE p.member_id = %s "
            "AND p.paid_on >= CURRENT_DATE - 183 ORDER BY p.paid_on DESC, p.id DESC"
        ),
        "plan_acts": (
            "SELECT * FROM benefits_paymentline WHERE payment_id IN (SELECT id FROM benefits_payment "
            "WHERE member_id = %s AND paid_on >= CURRENT_DATE - 183) ORDER BY care_date, id"
        ),
    }
    with psycopg.connect(url) as connection:
        return {
            name: ", ".join(
                scans(connection.execute("EXPLAIN (FORMAT JSON) " + query, [member_id]).fetchone()[0][0]["Plan"])
            )
            for name, query in queries.items()
        }


def _postgresql_reachable(*urls: str) -> bool:
    """Whether the servers of these URLs answer (the URLs the run will use, not a default one)."""
    import psycopg

    try:
        for url in urls:
            _admin_connection(url)[1].close()
        return True
    except psycopg.OperationalError:
        return False


def run(quick: bool, *, var_dir: Path) -> dict:
    from django.urls import reverse

    large_url = os.environ.get("BENCH_NATIONAL_URL", POSTGRESQL + "portail_national")
    small_url = os.environ.get("BENCH_SMALL_URL", POSTGRESQL + "portail_bench_10k")
    if quick or not _postgresql_reachable(large_url, small_url):
        large_members, small_members = 10_000, 1_000
        large_url = f"sqlite:///{var_dir / 'scale-large.sqlite3'}"
        small_url = f"sqlite:///{var_dir / 'scale-small.sqlite3'}"
        engine = "SQLite" + ("" if quick else " (PostgreSQL unreachable)")
    else:
        large_members, small_members = 1_000_000, 10_000
        engine = "PostgreSQL"

    print(f"   generating (or resuming) {large_members:,} members, then {small_members:,}", file=sys.stderr)
    large = _generate(large_url, large_members)
    try:
        small = _generate(small_url, small_members, anchor=large["anchor"])
    except RuntimeError:
        if not small_url.startswith("postgres"):
            raise
        from bench.generate import fresh_postgresql_database

        fresh_postgresql_database(small_url)  # generated on another anchor: the small one is quick to redo
        small = _generate(small_url, small_members, anchor=large["anchor"])

    sampled = list(range(0, small_members, ACCOUNT_EVERY))[: 10 if quick else 50]
    nirs = _nirs(small_url, [index + 1 for index in sampled])
    if nirs != _nirs(large_url, [index + 1 for index in sampled]):
        raise RuntimeError("the two databases do not hold the same members: regenerate the small one")
    page = reverse("benefits:payments") + "?view=detail"
    login = reverse("public:member_space")
    rounds = 8 if quick else 20
    timings: dict[str, list[float]] = {"small": [], "large": []}
    with (
        PortalServer(database_url=small_url, var_dir=var_dir) as small_server,
        PortalServer(database_url=large_url, var_dir=var_dir) as large_server,
    ):
        visitors = {"small": [], "large": []}
        with bar(len(nirs) * 2, "logging the sampled members in on both servers") as progress:
            for nir in nirs:
                for size, server in (("small", small_server), ("large", large_server)):
                    visitor = Visitor(server)
                    visitor.login(login_path=login, nir=nir, code=BENCH_CODE)
                    visitor.timed_get(page)  # warm-up: the first page of each member
                    visitors[size].append(visitor)
                    progress.update(1)
        with bar(rounds * len(nirs) * 2, "payments pages, small and large in turn", unit="req") as progress:
            for _ in range(rounds):
                for small_visitor, large_visitor in zip(visitors["small"], visitors["large"], strict=True):
                    timings["small"].append(small_visitor.timed_get(page))
                    timings["large"].append(large_visitor.timed_get(page))
                    progress.update(2)

    def ms(size: str, fraction: float) -> float:
        return round(percentile(timings[size], fraction) * 1000, 1)

    def shape(summary: dict) -> str:
        members, payments, acts = (int(summary[key]) for key in ("members", "payments", "acts"))
        return f"{members:,} members, {payments:,} payments, {acts:,} acts"

    def ratio(fraction: float) -> float:
        return round(percentile(timings["large"], fraction) / percentile(timings["small"], fraction), 2)

    return {
        "database": engine,
        "large": shape(large),
        "small": shape(small),
        "members_sampled": len(nirs),
        "requests_per_size": len(timings["large"]),
        "large_ms_p50": ms("large", 0.5),
        "large_ms_p99": ms("large", 0.99),
        "small_ms_p50": ms("small", 0.5),
        "small_ms_p99": ms("small", 0.99),
        "ratio_p50_large_over_small": ratio(0.5),
        "ratio_p99_large_over_small": ratio(0.99),
        **(_plans(large_url, 1) if large_url.startswith("postgres") else {}),
        "target": "ratios <= 1.5",
    }
