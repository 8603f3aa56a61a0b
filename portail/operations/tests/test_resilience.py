"""Nothing is lost when a worker or the database goes away: the real stack, in other processes.

These tests start the portal's own commands (migrate, RQ or database workers, gunicorn) against a
throwaway PostgreSQL database and a dedicated Redis database, kill or cut what a real incident would,
and check the outcome from outside. Without PostgreSQL (or Redis) they skip and say why; with CI=true
they fail instead, since CI has both servers.
"""

import collections
import csv
import json
import os
import re
import signal
import time
from http import HTTPStatus
from pathlib import Path

import pytest

from portail.operations.tests import stack
from portail.operations.tests.seed import PERSONAL_CODE
from portail.operations.tests.tcp_proxy import TcpProxy

# RQ (the production queue): the 1 000 letters, 70 to 100 s here, most of it rendering and
# merging 1 000 PDFs. The database queue shows the same with 400 letters, to keep the suite short.
pytestmark = pytest.mark.resilience

LETTERS = {"rq": 1000, "db": 400}
EMAIL_EVERY = 20  # one e-mail queued between every 20 letters
CRASH_REDIS_DB = 10


def require(reason: str | None) -> None:
    """Skip with `reason` when a server is missing, or fail when CI=true (CI runs both servers)."""
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, where PostgreSQL and Redis must be running", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def portal_factory(tmp_path):
    """Build Portal objects on throwaway databases; every process and database goes at the end."""
    portals, databases = [], []

    def build(name: str, *, redis_db: int | None = None) -> stack.Portal:
        database = stack.throwaway_database(f"portail_{name}_{os.getpid()}")
        url = database.__enter__()
        databases.append(database)
        var_dir = tmp_path / name
        var_dir.mkdir()
        portal = stack.Portal(database_url=url, var_dir=var_dir, redis_db=redis_db)
        portals.append(portal)
        return portal

    yield build
    for portal in portals:
        portal.stop_all()
        if portal.redis_db is not None:
            stack.redis_flush(portal.redis_db)
    for database in reversed(databases):
        database.__exit__(None, None, None)


def _log_counts(paths, pattern: str) -> collections.Counter:
    counts = collections.Counter()
    for path in paths:
        counts.update(re.findall(pattern, Path(path).read_text(errors="replace")))
    return counts


class TestWorkerCrash:
    """Letters and e-mails queued (1 000 and 50 on RQ); the worker is SIGKILLed in the middle of the batch."""

    def _workers(self, backend: str, *, burst: bool) -> list[list[str]]:
        if backend == "rq":
            command = ["manage.py", "rqworker", "default", "--job-class", "django_tasks_rq.Job"]
            if burst:
                # Draining the rest: the in-process worker, ~10x faster than forking a work-horse a job.
                return [[stack.PYTHON, *command, "--burst", "--worker-class", "rq.worker.SimpleWorker"]] * 2
            return [[stack.PYTHON, *command]]  # the production worker class (fork a work-horse per job)
        command = [stack.PYTHON, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2"]
        return [[*command, "--batch"]] * 2 if burst else [command]

    def _drain(self, portal: stack.Portal, backend: str, round_name: str) -> list[Path]:
        workers = [
            portal.start(arguments, log_name=f"worker-{round_name}-{index}")
            for index, arguments in enumerate(self._workers(backend, burst=True))
        ]
        for worker in workers:
            assert worker.wait(timeout=120) == 0, worker.log_path.read_text()[-2000:]
        return [worker.log_path for worker in workers]

    @pytest.mark.parametrize("backend", ["rq", "db"])
    def test_a_killed_worker_loses_nothing_and_does_nothing_twice(self, backend, portal_factory):
        letters = LETTERS[backend]
        require(stack.postgres_unreachable_reason())
        if backend == "rq":
            require(stack.redis_unreachable_reason())
            stack.redis_flush(CRASH_REDIS_DB)
        portal = portal_factory(f"crash_{backend}", redis_db=CRASH_REDIS_DB if backend == "rq" else None)
        portal.migrate()
        filled = json.loads(
            portal.shell(
                "from portail.operations.tests.seed import outbox_fill; "
                f"outbox_fill({letters}, email_every={EMAIL_EVERY})"
            )
        )
        email_ids = filled["emails"]
        assert filled["letters"] == letters and len(email_ids) == letters // EMAIL_EVERY

        def rendered() -> int:
            return stack.query(portal.database_url, "SELECT count(*) FROM post_letter WHERE status = 'rendered'")[0][0]

        # The worker runs; it is SIGKILLed (with its work-horse) once some letters, not all, are rendered.
        logs = []
        (arguments,) = self._workers(backend, burst=False)
        worker = portal.start(arguments, log_name="worker-killed")
        logs.append(worker.log_path)
        deadline = time.monotonic() + 60
        while rendered() < 25 and time.monotonic() < deadline:
            assert worker.poll() is None, worker.log_path.read_text()[-2000:]
            time.sleep(0.05)
        portal.kill(worker, signal.SIGKILL)
        at_kill = rendered()
        assert 0 < at_kill < letters, at_kill

        # Started again: the workers drain what is still queued, then the outbox recovery re-enqueues
        # what the killed worker held (its task is lost with it), and a last round does that.
        logs += self._drain(portal, backend, "drain")
        recovered = portal.manage("recover_outbox", "--older-than", "0")
        requeued = int(re.search(r"letters enqueued again: (\d+)", recovered).group(1))
        assert requeued <= 2, recovered  # only what the killed worker held, not the whole batch
        logs += self._drain(portal, backend, "recovered")

        # Every letter rendered, exactly once, into exactly one file.
        statuses = stack.query(portal.database_url, "SELECT status, count(*) FROM post_letter GROUP BY status")
        assert statuses == [("rendered", letters)]
        assert stack.query(portal.database_url, "SELECT count(*) FROM post_letter WHERE secret_context <> '{}'") == [
            (0,)
        ]
        renders = _log_counts(logs, r"Letter (\d+) rendered")
        assert len(renders) >= letters - 2 and max(renders.values()) == 1
        letters_dir = portal.var_dir / "letters"
        files = [path for path in letters_dir.rglob("*") if path.is_file()]
        assert not [path for path in files if path.name.startswith(".tmp-")]
        paths = dict(stack.query(portal.database_url, "SELECT id, pdf_path FROM post_letter"))
        assert sorted(path.relative_to(letters_dir).as_posix() for path in files) == sorted(paths.values())
        assert all(paths[letter_id].endswith(f"/letter-{letter_id}.pdf") for letter_id in paths)

        # Two print exports at once, then a third: each letter in exactly one batch.
        exports = [
            portal.start([stack.PYTHON, "manage.py", "export_print_batch"], log_name=f"export-{i}") for i in (1, 2)
        ]
        for export in exports:
            assert export.wait(timeout=120) == 0, export.log_path.read_text()[-2000:]
        assert "Aucun courrier à imprimer" in portal.manage("export_print_batch")
        manifests = list((portal.var_dir / "print-batches").rglob("*.csv"))
        manifest_ids = [
            int(row["letter_id"]) for path in manifests for row in csv.DictReader(path.read_text().splitlines())
        ]
        assert sorted(manifest_ids) == sorted(paths)
        assert stack.query(
            portal.database_url, "SELECT count(*), count(DISTINCT batch_id) FROM post_letter WHERE status = 'batched'"
        )[0] == (letters, len(manifests))

        # No e-mail sent twice: one claim each, one hand-over to the (demo letterbox) mailer each.
        emails = stack.query(portal.database_url, 'SELECT id, status, attempts, "to" FROM post_email ORDER BY id')
        assert [row[0] for row in emails] == email_ids
        interrupted = {row[0] for row in emails if row[1] == "sending"}
        assert len(interrupted) <= 1 and all(str(pk) in recovered for pk in interrupted)
        assert all(row[1] == "sent" and row[2] == 1 for row in emails if row[0] not in interrupted)
        handed_over = _log_counts(logs, r"Demo letterbox: e-mail to (\S+) kept")
        assert max(handed_over.values()) == 1
        assert {row[3] for row in emails if row[1] == "sent"} <= set(handed_over)


class TestDatabaseOutage:
    """gunicorn with one worker, talking to PostgreSQL through a proxy the test cuts and restores."""

    def test_members_get_a_calm_503_during_the_cut_and_service_resumes_without_restart(self, portal_factory):
        require(stack.postgres_unreachable_reason())
        portal = portal_factory("outage")
        portal.migrate()
        portal.manage("collectstatic", "--noinput", "-v", "0")
        seeded = json.loads(
            portal.shell("from portail.operations.tests.seed import members_with_accounts; members_with_accounts(1)")
        )
        token = portal.manage("feed_token", "create", "resilience-test").strip().splitlines()[-1]
        direct_url = portal.database_url

        with TcpProxy(target=("127.0.0.1", 5432)) as proxy:
            portal.database_url = stack.database_url(direct_url.rsplit("/", 1)[1], port=proxy.port)
            port = stack.free_port()
            portal.start_gunicorn(port)
            browser = stack.Browser(f"http://127.0.0.1:{port}")
            nir = seeded["nirs"][0]

            def push(reference: str) -> stack.Answer:
                payment = {
                    "id": reference,
                    "nir": nir,
                    "paid_on": time.strftime("%Y-%m-%d"),
                    "amount": "21.00",
                    "payee": "member",
                    "lines": [
                        {
                            "care_date": time.strftime("%Y-%m-%d"),
                            "nature": "consultation",
                            "practitioner": "Dr Claire Martin",
                            "amount_charged": "30.00",
                            "base": "30.00",
                            "rate": "70",
                            "reimbursed": "21.00",
                        }
                    ],
                }
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                return browser.request("/api/paiements/", data=json.dumps(payment).encode(), headers=headers)

            # Before: logged in, the payments page answers; a payment pushed is taken.
            login = browser.post_form("/mon-compte/", {"nir": nir, "code": PERSONAL_CODE})
            assert login.status == HTTPStatus.OK
            before = browser.get("/mon-compte/paiements/")
            assert before.status == HTTPStatus.OK and 'name="code"' not in before.text  # not the login form
            assert push("OUTAGE-BEFORE").status == HTTPStatus.ACCEPTED

            # The cut: every connection to PostgreSQL closed, new ones refused.
            proxy.pause()
            for path in ("/mon-compte/paiements/", "/mon-compte/"):
                page = browser.get(path)
                assert page.status == HTTPStatus.SERVICE_UNAVAILABLE, (path, page.status, page.text[:500])
                assert page.headers.get("Retry-After") == "30"
                assert "Service momentanément interrompu" in page.text
                assert "Traceback" not in page.text and "psycopg" not in page.text and "5432" not in page.text
            during = push("OUTAGE-DURING")
            assert during.status == HTTPStatus.SERVICE_UNAVAILABLE and during.headers.get("Retry-After") == "30"
            probe = stack.Browser(f"http://127.0.0.1:{port}")  # a load balancer's probe: no cookie
            assert probe.get("/healthz").status == HTTPStatus.OK
            ready = probe.get("/readyz")
            assert ready.status == HTTPStatus.SERVICE_UNAVAILABLE
            assert json.loads(ready.text)["database"] == {"ok": False, "error": "OperationalError"}

            # Restored: same process, same session, no restart; the client's retry goes through.
            proxy.resume()
            assert probe.get("/readyz").status == HTTPStatus.OK
            page = browser.get("/mon-compte/paiements/")
            assert page.status == HTTPStatus.OK, page.text[:500]
            assert push("OUTAGE-DURING").status == HTTPStatus.ACCEPTED  # the client retries its 503
            assert push("OUTAGE-AFTER").status == HTTPStatus.ACCEPTED
            assert proxy.connections_refused > 0

        references = stack.query(
            direct_url, "SELECT external_id FROM benefits_payment WHERE external_id LIKE 'OUTAGE-%%' ORDER BY 1"
        )
        assert references == [("OUTAGE-AFTER",), ("OUTAGE-BEFORE",), ("OUTAGE-DURING",)]
        log = (portal.var_dir / "gunicorn.log").read_text()
        assert "Worker exiting" not in log and "Booting worker" in log and log.count("Booting worker") == 1


@pytest.mark.django_db
class TestOutboxRecover:
    """The recovery service alone, in-process (tasks run at once): what it enqueues again, and what not."""

    @pytest.fixture(autouse=True)
    def _mailer(self, settings):
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    def test_it_renders_lost_letters_and_sends_lost_emails_once(self, mailoutbox):
        import datetime as dt

        from portail.post.enums import EmailStatus, LetterStatus
        from portail.post.factories import EmailFactory, LetterFactory
        from portail.post.services import outbox_recover

        letter = LetterFactory()
        queued, interrupted = EmailFactory(), EmailFactory(status=EmailStatus.SENDING, attempts=1)
        fresh = outbox_recover(older_than=dt.timedelta(minutes=15))
        assert (fresh.letters_requeued, fresh.emails_requeued, fresh.emails_interrupted) == (0, 0, [])

        report = outbox_recover(older_than=dt.timedelta(0))
        assert (report.letters_requeued, report.emails_requeued) == (1, 1)
        assert report.emails_interrupted == [interrupted.pk]
        letter.refresh_from_db(), queued.refresh_from_db(), interrupted.refresh_from_db()
        assert letter.status == LetterStatus.RENDERED and letter.pdf_file.exists()
        assert (queued.status, queued.attempts) == (EmailStatus.SENT, 1)
        assert interrupted.status == EmailStatus.SENDING and len(mailoutbox) == 1

        again = outbox_recover(older_than=dt.timedelta(0))
        assert (again.letters_requeued, again.emails_requeued) == (0, 0) and len(mailoutbox) == 1

        outbox_recover(older_than=dt.timedelta(0), resend_interrupted=True)
        interrupted.refresh_from_db()
        assert (interrupted.status, interrupted.attempts) == (EmailStatus.SENT, 2) and len(mailoutbox) == 2
