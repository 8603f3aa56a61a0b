from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portail.benefits.feed import DEFAULT_BATCH_SIZE, payment_import_summary, payments_import
from portail.registry.importing import ImportProgress, Rejection


class Command(BaseCommand):
    help = "Import payments from the claims system's JSON Lines file (see docs/payment-feed.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="UTF-8 file, one JSON payment per line")
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="payments written per batch (default 2000)"
        )

    def handle(self, *args, file, batch_size, **options):
        if batch_size < 1:
            raise CommandError(_("--batch-size doit être au moins 1."))

        def progress(state: ImportProgress) -> None:
            self.stderr.write(
                _("%(rows)d lignes lues, %(rate)d lignes/s")
                % {"rows": state.rows_read, "rate": state.rows_per_second},
                style_func=str,
            )

        def rejection(rejected: Rejection) -> None:
            self.stderr.write(rejected.reason)

        path = Path(file)
        try:
            # newline="\n": a line ends at \n only (a JSON string may hold U+2028 and the like).
            handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="\n")
        except OSError as error:
            raise CommandError(
                _("Impossible d'ouvrir le fichier « %(path)s » : %(error)s.") % {"path": path, "error": error.strerror}
            ) from None
        with handle:
            try:
                run = payments_import(
                    lines=handle, source=path.name, batch_size=batch_size, on_progress=progress, on_rejection=rejection
                )
            except OSError as error:
                raise CommandError(
                    _("Lecture du fichier « %(path)s » interrompue : %(error)s.")
                    % {"path": path, "error": error.strerror or error}
                ) from None
        self.stdout.write(payment_import_summary(run))
