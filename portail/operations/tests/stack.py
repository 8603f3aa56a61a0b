"""Run the real portal stack in other processes, for the resilience tests and the load test.

A throwaway PostgreSQL database (created here, dropped here), a var/ directory of its own, and the same
commands an operator runs (`manage.py migrate`, gunicorn, `manage.py rqworker`), each in a subprocess with
its environment. Nothing here imports Django or pytest: the caller decides what to skip.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
POSTGRES_ADMIN_URL = os.environ.get("PORTAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def postgres_unreachable_reason() -> str | None:
    """None when the PostgreSQL server answers; otherwise why not."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL} ({type(error).__name__})"
    return None


def redis_unreachable_reason() -> str | None:
    """None when the Redis server answers PING; otherwise why not."""
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as error:
        return f"Redis unreachable at {REDIS_HOST}:{REDIS_PORT} ({type(error).__name__})"
    return None


def redis_flush(db: int) -> None:
    """Empty one Redis database (a dedicated number, never the others)."""
    import redis

    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)


def database_url(name: str, *, port: int = 5432) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"


@contextlib.contextmanager
def throwaway_database(name: str):
    """Create database `name` (dropping a leftover of the same name), yield its URL, drop it."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"unsafe database name: {name!r}")
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    try:
        yield database_url(name)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(url: str, sql: str, params=()) -> list[tuple]:
    """Rows of one query, on a connection of its own (the test's view from outside the portal)."""
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


@dataclass
class Portal:
    """One deployment of the portal: its database, optional Redis database and var/ directory."""

    database_url: str
    var_dir: Path
    redis_db: int | None = None
    extra_env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)

    @property
    def env(self) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PORTAIL_", "PYTEST")) and key not in {"DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            DATABASE_URL=self.database_url,
            PORTAIL_VAR_DIR=str(self.var_dir),
            PORTAIL_DEMO="1",
            PORTAIL_LOG_FORMAT="plain",
            DJANGO_SETTINGS_MODULE="portail.settings",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_db is not None:
            env["REDIS_URL"] = f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"
        env.update(self.extra_env)
        return env

    def manage(self, *arguments: str, timeout: float = 120, env: dict | None = None) -> str:
        """Run `manage.py ARGUMENTS` to completion; its standard output, or an error with both outputs."""
        result = subprocess.run(
            [PYTHON, "manage.py", *arguments],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(arguments)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def shell(self, code: str, *, timeout: float = 120) -> str:
        """Run Python code inside the portal (`manage.py shell -c`): what it prints."""
        return self.manage("shell", "--no-imports", "-c", code, timeout=timeout)

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        if self.redis_db is None:
            self.manage("createcachetable")

    def start(self, arguments: list[str], *, log_name: str) -> subprocess.Popen:
        """Start a long-running process (its own process group, so that a kill takes its children too)."""
        log = open(self.var_dir / f"{log_name}.log", "ab")  # noqa: SIM115 - closed by stop()
        process = subprocess.Popen(
            arguments, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_file = log
        process.log_path = self.var_dir / f"{log_name}.log"
        self.processes.append(process)
        return process

    def start_gunicorn(self, port: int, *, workers: int = 1, threads: int = 1) -> subprocess.Popen:
        arguments = [str(Path(PYTHON).parent / "gunicorn"), "portail.wsgi", "--bind", f"127.0.0.1:{port}"]
        arguments += ["--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "5"]
        process = self.start(arguments, log_name="gunicorn")
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=process)
        return process

    def kill(self, process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process and its whole group (an RQ worker's work-horse dies with it)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.kill(process)
            process.log_file.close()
        self.processes.clear()


def wait_for_http(url: str, *, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited {process.returncode}: see {process.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Answer:
    status: int
    headers: dict
    text: str


class Browser:
    """A minimal HTTP client with cookies and CSRF tokens, on the standard library (loopback only)."""

    CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, *, data: dict | bytes | None = None, headers: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read().decode())

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post_form(self, path: str, fields: dict) -> Answer:
        """GET the form for its CSRF token, then POST `fields` with it (redirects are followed)."""
        page = self.get(path)
        match = self.CSRF_INPUT.search(page.text)
        if match is None:
            raise AssertionError(f"no CSRF token on {path} ({page.status})")
        return self.request(path, data={**fields, "csrfmiddlewaretoken": match.group(1)})
