from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portail.post.services import print_batch_export


class Command(BaseCommand):
    help = "Put every rendered letter not yet printed into one print batch (a PDF and a CSV manifest)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--created-by", default="export_print_batch", help="Who runs the export (kept on the batch)."
        )

    def handle(self, *args, created_by, **options):
        batch = print_batch_export(created_by=created_by)
        if batch is None:
            self.stdout.write(_("Aucun courrier à imprimer : aucun lot n'a été créé."))
            return
        count = ngettext(
            "Lot d'impression n° %(id)s : %(count)s courrier.",
            "Lot d'impression n° %(id)s : %(count)s courriers.",
            batch.letter_count,
        ) % {"id": batch.pk, "count": batch.letter_count}
        self.stdout.write(self.style.SUCCESS(count))
        self.stdout.write(_("PDF à imprimer : %(path)s") % {"path": batch.pdf_file})
        self.stdout.write(_("Manifeste : %(path)s") % {"path": batch.manifest_file})
        self.stdout.write(
            _("Une fois le lot remis à La Poste : python manage.py mark_batch_posted %(id)s") % {"id": batch.pk}
        )
