"""Load test: 200 members log in and open their payments, against the at-scale stack on loopback.

    python -m bench.load            # 60 s of load
    python -m bench.load --quick    # 20 s

Needs PostgreSQL (127.0.0.1:5432, PORTAIL_TEST_POSTGRES_URL) and Redis (127.0.0.1:6379). It creates a
throwaway database and uses Redis database 12 (flushed before and after, no other), starts what
`make run-scale` starts (gunicorn with WEB_WORKERS workers, an RQ worker, the scheduler), seeds the
members in bulk (accounts and 20 payments each), runs Locust headless on the same machine, stops
everything, drops the database and writes bench/results/load.json and load.md.

Security parameters are the production ones: each login is one Argon2id verify with the default cost
(PORTAIL_ARGON2_* unset), so on a small machine the login is what limits the rate.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from portail.operations.tests import stack

BENCH_DIR = Path(__file__).resolve().parents[1]
RESULTS_DIR = BENCH_DIR / "results"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REDIS_DB = 12


def _figures(stats_csv: Path) -> dict:
    rows = {row["Name"]: row for row in csv.DictReader(stats_csv.read_text().splitlines())}

    def summary(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "requests_per_second": round(float(row["Requests/s"]), 1),
            "ms_p50": float(row["50%"]),
            "ms_p95": float(row["95%"]),
            "ms_p99": float(row["99%"]),
            "ms_max": round(float(row["Max Response Time"]), 1),
        }

    return {name: summary(row) for name, row in rows.items()}


def to_markdown(report: dict) -> str:
    lines = ["# Load test", ""]
    lines += [f"- {key}: {value}" for key, value in report["setup"].items()]
    lines += [
        "",
        "| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in report["requests"].items():
        lines.append(
            f"| {name} | {row['requests']} | {row['failures']} | {row['requests_per_second']} | {row['ms_p50']:.0f} "
            f"| {row['ms_p95']:.0f} | {row['ms_p99']:.0f} | {row['ms_max']:.0f} |"
        )
    if report["errors"]:
        lines += ["", "## Errors", "", "| request | error | occurrences |", "|---|---|---|"]
        lines += [f"| {e['name']} | {e['error']} | {e['occurrences']} |" for e in report["errors"]]
    else:
        lines += ["", "No errors."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s of load instead of 60 s")
    parser.add_argument("--members", type=int, default=200, help="simulated members (default 200)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2: one a core)")
    arguments = parser.parse_args()
    duration = 20 if arguments.quick else 60

    for reason in (stack.postgres_unreachable_reason(), stack.redis_unreachable_reason()):
        if reason:
            print(f"The load test needs PostgreSQL and Redis: {reason}.", file=sys.stderr)
            return 2

    stack.redis_flush(REDIS_DB)
    with (
        tempfile.TemporaryDirectory(prefix="portail-load-") as tmp,
        stack.throwaway_database(f"portail_load_{os.getpid()}") as url,
    ):
        var_dir = Path(tmp)
        portal = stack.Portal(database_url=url, var_dir=var_dir, redis_db=REDIS_DB, extra_env={"LOG_LEVEL": "WARNING"})
        try:
            print("== migrate, collectstatic, seed", flush=True)
            portal.migrate()
            portal.manage("collectstatic", "--noinput", "-v", "0")
            started = time.perf_counter()
            seeded = json.loads(
                portal.shell(
                    "from portail.operations.tests.seed import members_with_accounts; "
                    f"members_with_accounts({arguments.members})",
                    timeout=300,
                )
            )
            seed_seconds = time.perf_counter() - started
            nirs_file = var_dir / "nirs.txt"
            nirs_file.write_text("\n".join(seeded["nirs"]) + "\n")

            port = stack.free_port()
            portal.start_gunicorn(port, workers=arguments.web_workers)
            venv_python = stack.PYTHON
            portal.start(
                [venv_python, "manage.py", "rqworker", "default", "--job-class", "django_tasks_rq.Job"],
                log_name="worker",
            )
            portal.start([venv_python, "manage.py", "scheduler"], log_name="scheduler")

            print(f"== locust: {arguments.members} members for {duration} s on http://127.0.0.1:{port}", flush=True)
            prefix = var_dir / "locust"
            locust = subprocess.run(
                [
                    str(Path(venv_python).parent / "locust"),
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "--users",
                    str(arguments.members),
                    "--spawn-rate",
                    "20",
                    "--run-time",
                    f"{duration}s",
                    "--stop-timeout",
                    "10",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                env={**os.environ, "PORTAIL_LOAD_NIRS": str(nirs_file), "PORTAIL_LOAD_CODE": seeded["code"]},
                capture_output=True,
                text=True,
                timeout=duration + 120,
            )
            print(locust.stdout[-4000:], locust.stderr[-4000:], sep="\n")
            requests = _figures(Path(f"{prefix}_stats.csv"))
            failures_csv = Path(f"{prefix}_failures.csv")
            errors = [
                {"name": row["Name"], "error": row["Error"], "occurrences": int(row["Occurrences"])}
                for row in csv.DictReader(failures_csv.read_text().splitlines())
            ]
            server_errors = (var_dir / "gunicorn.log").read_text().count(" ERROR ")
        finally:
            portal.stop_all()
            stack.redis_flush(REDIS_DB)

    total = requests.get("Aggregated", {})
    report = {
        "setup": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}",
            "stack": f"gunicorn {arguments.web_workers} sync workers + 1 RQ worker + scheduler, PostgreSQL, Redis "
            "(sessions, cache, queue), Locust on the same machine",
            "members": arguments.members,
            "duration_seconds": duration,
            "scenario": "fresh session, login page, login, payments, detailed payments, payments; 2-5 s between pages",
            "argon2": "production parameters (PORTAIL_ARGON2_* defaults: 47104 KiB, t=1, p=1), not lowered",
            "seed_seconds": round(seed_seconds, 1),
            "server_error_log_lines": server_errors,
            "locust_exit_code": locust.returncode,
        },
        "requests": requests,
        "errors": errors,
        "summary": {
            "requests_per_second": total.get("requests_per_second"),
            "failures": total.get("failures"),
            "ms_p50": total.get("ms_p50"),
            "ms_p95": total.get("ms_p95"),
            "ms_p99": total.get("ms_p99"),
        },
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "load.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS_DIR / "load.md").write_text(to_markdown(report))
    print(to_markdown(report))
    print(f"Results written to {RESULTS_DIR / 'load.json'} and load.md")
    return 0 if not errors and locust.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
