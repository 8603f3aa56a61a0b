"""Run every bench/bench_*.py module's `run(quick: bool) -> dict` and write bench/results/latest.{json,md}
(a quick run: bench/results/quick.{json,md}, so that it never overwrites the full run's report).

Django is set up here against a throwaway database: SQLite in a temporary directory, or, with
--database-url postgresql://.../NAME, a PostgreSQL database NAME dropped and created afresh. The
developer's var/ is never touched. A module whose run() also takes `database_url` and `var_dir` gets them
(to start a server on the same database).
"""

import argparse
import datetime
import importlib
import importlib.metadata
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def setup_django(var_dir: Path, database_url: str | None = None, redis_url: str | None = None) -> str:
    """Django on a fresh database (and a Redis database emptied, if given); returns the database's URL."""
    sys.path.insert(0, str(BENCH_DIR.parent))
    from bench.generate import BENCH_PEPPER, fresh_postgresql_database

    if database_url:
        fresh_postgresql_database(database_url)
    else:
        database_url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ["PORTAIL_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["PORTAIL_PEPPER"] = BENCH_PEPPER  # the servers the benchmarks start use it too
    os.environ.pop("REDIS_URL", None)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        os.environ["REDIS_URL"] = redis_url  # cache, sessions and rate limits there, as at scale
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return database_url


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import django
    from django.db import connection

    memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_bytes / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": f"SQLite {connection.Database.sqlite_version}"
        if connection.vendor == "sqlite"
        else "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
        "server": f"gunicorn {importlib.metadata.version('gunicorn')}",
        "cache_and_sessions": "Redis" if os.environ.get("REDIS_URL") else "database",
    }


def _setup_differences(before: dict, now: dict) -> str:
    """What differs between two reports' setups ("" if nothing but the date), e.g. "cpu: A → B"."""
    changed = [key for key, value in now.items() if key != "date" and before.get(key) != value]
    return "; ".join(f"{key}: {before.get(key)} → {now[key]}" for key in changed)


def _summary(benchmarks: dict) -> list[tuple[str, str, str, str, str]]:
    """One line per figure of docs/benchmarks.md: (number, figure, measured, target, whether it is met)."""

    def figure(name: str) -> dict:
        return benchmarks.get(name, {})

    page, login, feed = figure("bench_payments_page"), figure("bench_login"), figure("bench_payment_import")
    pdf, scale, memory = (
        figure("bench_statement_pdf"),
        figure("bench_payments_at_scale"),
        figure("bench_worker_memory"),
    )
    lines = []
    if page:
        lines.append(
            (
                "1",
                "payments page throughput ÷ bare member view",
                f"{page['ratio_page_over_bare']} ({page['payments_page_requests_per_second']}/s ÷ "
                f"{page['bare_member_view_requests_per_second']}/s)",
                "≥ 0.5",
                page["ratio_page_over_bare"] >= 0.5,
            )
        )
        queries = (page["queries_for_3_payments"], page["queries_for_300_payments"])
        lines.append(
            (
                "2",
                "queries per payments page, 3 and 300 payments",
                f"{queries[0]} and {queries[1]}",
                "equal, ≤ 6",
                queries[0] == queries[1] <= 6,
            )
        )
    if login:
        lines.append(
            (
                "3",
                "login request ÷ one Argon2id verify",
                f"{login['ratio_login_over_verify']} ({login['login_request_ms_median']} ms ÷ "
                f"{login['argon2_verify_ms_median']} ms)",
                "≤ 1.2",
                login["ratio_login_over_verify"] <= 1.2,
            )
        )
    if feed:
        lines.append(
            (
                "4",
                f"payment feed import ÷ raw {feed['raw_insert']}",
                f"{feed['import_to_raw_ratio']} ({feed['import_payments_per_second']:,}/s ÷ "
                f"{feed['raw_payments_per_second']:,}/s)",
                "≥ 0.5",
                feed["import_to_raw_ratio"] >= 0.5,
            )
        )
    if pdf:
        lines.append(
            (
                "5",
                "statement PDF ÷ bare ReportLab",
                f"{pdf['ratio_ours_over_bare']} ({pdf['ours_ms_median']} ms ÷ {pdf['bare_ms_median']} ms)",
                "≤ 1.5",
                pdf["ratio_ours_over_bare"] <= 1.5,
            )
        )
    if scale:
        ratios = (scale["ratio_p50_large_over_small"], scale["ratio_p99_large_over_small"])
        lines.append(
            (
                "6",
                f"payments page p50, p99: {scale['large'].split(' members')[0]} ÷ "
                f"{scale['small'].split(' members')[0]} members",
                f"{ratios[0]}, {ratios[1]} (p50 {scale['large_ms_p50']} ÷ {scale['small_ms_p50']} ms, "
                f"p99 {scale['large_ms_p99']} ÷ {scale['small_ms_p99']} ms)",
                "≤ 1.5",
                max(ratios) <= 1.5,
            )
        )
    if memory:
        after = memory[f"rss_mib_after_{memory['requests']}"]
        lines.append(
            (
                "7",
                f"worker memory after {memory['requests']:,} ÷ after 100 requests",
                f"{memory['ratio_after_total_over_after_100']} ({after} MiB ÷ {memory['rss_mib_after_100']} MiB)",
                "≤ 1.1, ≤ 150 MiB",
                memory["ratio_after_total_over_after_100"] <= 1.1 and after <= 150,
            )
        )
    return [(number, text, value, target, "yes" if met else "**no**") for number, text, value, target, met in lines]


def to_markdown(report: dict) -> str:
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in report["machine"].items()]
    lines += [f"- quick: {report['quick']}", ""]
    lines += ["## The figures against their targets (docs/benchmarks.md)", ""]
    lines += ["| # | figure | measured | target | met |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in _summary(report["benchmarks"])]
    lines += ["", "The details of each benchmark follow.", ""]
    for name, figures in report["benchmarks"].items():
        lines += [f"## {name}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in figures.items()]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL database to create afresh and run on (default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="a Redis database of the benchmarks' own (emptied first) for cache and sessions, as at scale",
    )
    parser.add_argument("only", nargs="*", help="run only these modules (e.g. bench_import_members)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portail-bench-") as tmp:
        database_url = setup_django(Path(tmp), arguments.database_url, arguments.redis_url)
        names = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
        if arguments.only:
            names = [name for name in names if name in arguments.only]
        report = {"machine": machine(), "quick": arguments.quick, "benchmarks": {}}
        stem = "quick" if arguments.quick else "latest"
        latest = RESULTS_DIR / f"{stem}.json"
        if arguments.only and latest.exists():
            # A partial run updates its own figures and keeps the others, if they were measured on the same
            # machine, database and cache: one report never mixes two setups under one heading.
            previous = json.loads(latest.read_text())
            differences = _setup_differences(previous["machine"], report["machine"])
            if differences:
                print(
                    f"{latest} was measured on another setup ({differences}): run every benchmark "
                    "to replace it, not some of them.",
                    file=sys.stderr,
                )
                return 2
            report["benchmarks"] = previous["benchmarks"]
        for name in names:
            print(f"== {name}", flush=True)
            started = time.perf_counter()
            run = importlib.import_module(f"bench.{name}").run
            extra = {"database_url": database_url, "var_dir": Path(tmp)}
            accepted = {key: value for key, value in extra.items() if key in inspect.signature(run).parameters}
            figures = run(quick=arguments.quick, **accepted)
            figures["wall_seconds"] = round(time.perf_counter() - started, 1)
            report["benchmarks"][name] = figures
            for key, value in figures.items():
                print(f"   {key}: {value}", flush=True)

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(to_markdown(report))
    print(f"Results written to {RESULTS_DIR / stem}.json and {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
