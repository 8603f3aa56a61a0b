"""The portal served as in production, for the benchmarks that measure what a browser would see.

`PortalServer` starts gunicorn with sync workers on production settings (PORTAIL_DEMO=0, secure cookies, behind
a TLS proxy: requests say X-Forwarded-Proto: https) plus the bare reference views of bench/urls.py.
`Visitor` is one browser: its cookies, a fresh connection per request (sync workers close each one), the CSRF
token sent back as a form would, the member login.
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.generate import BENCH_PEPPER

PROJECT_DIR = Path(__file__).resolve().parent.parent
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(*, database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a production-like portal process on `database_url`, with Redis when the run has one
    (python -m bench --redis-url sets REDIS_URL for itself and its servers, and removes it otherwise)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        PORTAIL_VAR_DIR=str(var_dir),
        PORTAIL_DEMO="0",
        PORTAIL_PEPPER=BENCH_PEPPER,
        PORTAIL_BEHIND_PROXY="1",
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONPATH=str(PROJECT_DIR),
    )
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    return env


class PortalServer:
    """gunicorn serving the portal on a free loopback port, for the length of a `with` block."""

    def __init__(self, *, database_url: str, var_dir: Path, workers: int = 1):
        self.env = server_environment(database_url=database_url, var_dir=var_dir)
        self.workers = workers
        self.port = _free_port()
        self.log_path = var_dir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "PortalServer":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portail.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
        ]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=PROJECT_DIR, env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn stopped at start: see {self.log_path}\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                if Visitor(self).get("/healthz")[0] == 200 and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s: see {self.log_path}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def worker_rss_mib(self) -> float:
        """Resident memory of the (first) worker process, in MiB."""
        status = Path(f"/proc/{self.worker_pids()[0]}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kib / 1024


class Visitor:
    """One browser's cookies against a PortalServer."""

    def __init__(self, server: PortalServer):
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, bytes]:
        origin = f"https://127.0.0.1:{self.server.port}"
        headers = {"Host": f"127.0.0.1:{self.server.port}", "X-Forwarded-Proto": "https", "Accept-Language": "fr"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": origin,
                "Referer": origin + path,
            }
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers), content
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, content = self.request("GET", path)
        return status, content

    def login(self, *, login_path: str, nir: str, code: str) -> None:
        status, page = self.get(login_path)
        token = CSRF_FIELD.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"the login page answered {status} without a form")
        form = {"csrfmiddlewaretoken": token.group(1).decode(), "nir": nir, "code": code}
        status, headers, _ = self.request("POST", login_path, form)
        if status != 302:
            raise RuntimeError(f"login refused ({status}): wrong pepper or personal code?")

    def timed_get(self, path: str) -> float:
        """Seconds for one GET, which must answer 200."""
        started = time.perf_counter()
        status, _ = self.get(path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return elapsed
