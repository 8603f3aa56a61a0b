import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portail.operations.maintenance import maintenance_current, maintenance_start, maintenance_stop


class Command(BaseCommand):
    help = (
        "Planned maintenance of the member space: `on --until 'YYYY-MM-DD HH:MM' --reason '...'` "
        "(or --minutes N), `off`, or `status`. Public pages and agents go on."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["on", "off", "status"])
        parser.add_argument("--until", help="end time, in the portal's time zone, e.g. '2026-12-01 06:00'")
        parser.add_argument("--minutes", type=int, help="or: how long from now")
        parser.add_argument("--reason", default="", help="shown to members, e.g. 'mise à jour du service'")

    def handle(self, *args, action, until, minutes, reason, **options):
        now = timezone.now()
        if action == "on":
            if minutes:
                ends_at = now + dt.timedelta(minutes=minutes)
            elif until and (parsed := parse_datetime(until)):
                ends_at = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
            else:
                raise CommandError("Donnez la fin de la maintenance : --until 'AAAA-MM-JJ HH:MM' ou --minutes N.")
            if ends_at <= now:
                raise CommandError("La fin de la maintenance doit être dans le futur.")
            maintenance_start(ends_at=ends_at, reason=reason, now=now)
            self.stdout.write(f"Maintenance en cours jusqu'au {timezone.localtime(ends_at):%d/%m/%Y %H:%M}.")
        elif action == "off":
            count = maintenance_stop(now=now)
            self.stdout.write("Maintenance levée." if count else "Aucune maintenance en cours.")
        current = maintenance_current(use_cache=False)
        if action == "status":
            if current is None:
                self.stdout.write("Aucune maintenance en cours.")
            else:
                self.stdout.write(
                    f"Maintenance jusqu'au {timezone.localtime(current.ends_at):%d/%m/%Y %H:%M} : {current.reason}"
                )
