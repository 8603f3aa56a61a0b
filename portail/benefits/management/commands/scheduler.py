"""The portal's one scheduler process: every hour, close the previous month's statements if needed.

Closing is idempotent, so a pass after the month is closed only checks that
nothing is missing (a member whose payment arrived late still gets a
statement). SIGTERM or SIGINT stops the loop between passes, or while a pass
waits for the next one.
"""

import datetime as dt
import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from portail.benefits.statements import month_to_close, statements_close_month
from portail.post.services import outbox_recover

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run scheduled jobs (closing last month's statements) every --interval seconds until SIGTERM/SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=3600, help="seconds between passes (default 3600)")
        parser.add_argument("--once", action="store_true", help="run one pass and exit")

    def handle(self, *args, interval, once, **options):
        stop = threading.Event()

        def request_stop(signum, frame):
            logger.info("Scheduler: signal %s received, stopping.", signum)
            stop.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stop.is_set():
                self.run_pass()
                if once:
                    break
                stop.wait(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(_("Planificateur arrêté."))

    def run_pass(self) -> None:
        # Between passes, drop a connection the database closed or that grew too
        # old, as a request would. (Never inside a transaction: tests run in one.)
        if not connection.in_atomic_block:
            close_old_connections()
        try:
            result = statements_close_month(month=month_to_close(now=timezone.now()), now=timezone.now())
        except Exception:  # one failed pass must not stop the scheduler: the next pass tries again
            logger.exception("Scheduler: closing the month failed; will try again at the next pass.")
            self.stderr.write(_("La clôture du mois a échoué ; nouvel essai au prochain passage."))
            return
        self.stdout.write(result.summary())
        try:
            # Letters and e-mails whose task was lost with a crashed worker go back in the queue.
            outbox_recover(older_than=dt.timedelta(minutes=15))
        except Exception:  # same rule: the next pass tries again
            logger.exception("Scheduler: recovering the outbox failed; will try again at the next pass.")
