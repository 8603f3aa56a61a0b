"""Run every bench/bench_*.py module's `run(quick: bool) -> dict` and write bench/results/latest.{json,md}.

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


def to_markdown(report: dict) -> str:
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in report["machine"].items()]
    lines += [f"- quick: {report['quick']}", ""]
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
        latest = RESULTS_DIR / "latest.json"
        if arguments.only and latest.exists():
            # A partial run updates its own figures and keeps the others.
            report["benchmarks"] = json.loads(latest.read_text())["benchmarks"]
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
    (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS_DIR / "latest.md").write_text(to_markdown(report))
    print(f"Results written to {RESULTS_DIR / 'latest.json'} and latest.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
