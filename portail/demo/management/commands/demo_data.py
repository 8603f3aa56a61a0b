from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from portail.demo.services import DemoDataResult, demo_data_load
from portail.registry.nir import parse_nir


def demo_data_report(result: DemoDataResult) -> str:
    """What the command prints: the counts, then the demo identities to try the journeys with."""
    counts = result.counts
    lines = [
        _(
            "Données de démonstration : %(members)d assurés, %(beneficiaries)d ayants droit "
            "(créés : %(created)d, mis à jour : %(updated)d, inchangés : %(unchanged)d)."
        )
        % {
            "members": result.member_count,
            "beneficiaries": result.beneficiary_count,
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        },
        "",
        _("Identités de démonstration pour essayer le portail (commander un code provisoire, se connecter) :"),
    ]
    for number, identity in enumerate(result.identities, start=1):
        lines += [
            "",
            _("  Identité %(number)d") % {"number": number},
            _("    Numéro de sécurité sociale : %(nir)s") % {"nir": parse_nir(identity.nir).formatted},
            _("    Nom de famille : %(last_name)s") % {"last_name": identity.last_name},
            _("    Prénom : %(first_name)s") % {"first_name": identity.first_names},
            _("    Date de naissance : %(birth_date)s") % {"birth_date": identity.birth_date.strftime("%d/%m/%Y")},
            _("    Code postal : %(postal_code)s") % {"postal_code": identity.postal_code},
        ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Load the demo register (idempotent: run on every `make run`) and print two demo identities."

    def handle(self, *args, **options):
        if not settings.PORTAIL_DEMO:
            self.stdout.write(_("Mode démonstration désactivé (PORTAIL_DEMO=0) : aucune donnée de démonstration."))
            return
        self.stdout.write(demo_data_report(demo_data_load()))
