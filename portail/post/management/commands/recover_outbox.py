import datetime as dt

from django.core.management.base import BaseCommand

from portail.post.services import outbox_recover


class Command(BaseCommand):
    help = (
        "After a worker crash or a lost queue: enqueue again the letters and e-mails still waiting after "
        "--older-than minutes (safe to run at any time: a letter or e-mail already done is left alone)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=15,
            metavar="MINUTES",
            help="Only what was saved at least this many minutes ago (default 15; 0 for everything).",
        )
        parser.add_argument("--retry-failed", action="store_true", help="Also send again the e-mails that failed.")
        parser.add_argument(
            "--resend-interrupted",
            action="store_true",
            help="Also send again the e-mails a dying worker was sending (they may then arrive twice).",
        )

    def handle(self, *args, older_than, retry_failed, resend_interrupted, **options):
        report = outbox_recover(
            older_than=dt.timedelta(minutes=older_than),
            retry_failed_emails=retry_failed,
            resend_interrupted=resend_interrupted,
        )
        self.stdout.write(f"letters enqueued again: {report.letters_requeued}")
        self.stdout.write(f"e-mails enqueued again: {report.emails_requeued}")
        self.stdout.write(f"temporary files removed: {report.temporary_files_removed}")
        if report.emails_interrupted:
            ids = " ".join(str(pk) for pk in report.emails_interrupted)
            if report.emails_interrupted_requeued:
                self.stdout.write(f"e-mails interrupted while sending, sent again: {ids}")
            else:
                self.stdout.write(
                    self.style.WARNING(
                        f"e-mails interrupted while sending, NOT sent again (check them; --resend-interrupted): {ids}"
                    )
                )
