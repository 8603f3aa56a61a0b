from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portail.registry.importing import ImportFileError, ImportProgress, Rejection, import_summary, members_import


class Command(BaseCommand):
    help = "Import or update the register of members from a CSV file (see docs/register-import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="UTF-8 CSV file with a header row")
        parser.add_argument("--fund", dest="fund_code", help="code of the fund; optional when only one exists")
        parser.add_argument("--batch-size", type=int, default=2000, help="rows written per batch (default 2000)")

    def handle(self, *args, file, fund_code, batch_size, **options):
        def progress(state: ImportProgress) -> None:
            self.stderr.write(
                _("%(rows)d lignes lues, %(rate)d lignes/s")
                % {"rows": state.rows_read, "rate": state.rows_per_second},
                style_func=str,
            )

        def rejection(rejected: Rejection) -> None:
            self.stderr.write(rejected.reason)

        try:
            run = members_import(
                path=file, fund_code=fund_code, batch_size=batch_size, on_progress=progress, on_rejection=rejection
            )
        except ImportFileError as error:
            raise CommandError(error.message) from None
        self.stdout.write(import_summary(run))
