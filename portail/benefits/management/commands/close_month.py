import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from portail.benefits.statements import MonthNotOver, statements_close_month


def month_argument(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(
            _("Mois invalide : %(value)s (attendu : AAAA-MM, par exemple 2026-03).") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Build the monthly statements of a month that is over (YYYY-MM), send the paper ones and the "
        "e-mails. Running it again creates and sends nothing twice (see docs/statements.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="the month to close, YYYY-MM")
        parser.add_argument("--batch-size", type=int, default=1000, help="members per transaction (default 1000)")

    def handle(self, *args, month, batch_size, **options):
        month = month_argument(month)
        try:
            result = statements_close_month(month=month, now=timezone.now(), batch_size=batch_size)
        except MonthNotOver:
            raise CommandError(_("Ce mois n'est pas terminé : seul un mois passé peut être clôturé.")) from None
        self.stdout.write(result.summary())
