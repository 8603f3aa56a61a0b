from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portail.post.models import PrintBatch
from portail.post.services import print_batch_mark_posted


class Command(BaseCommand):
    help = "Record that a printed batch went to La Poste: its letters become posted."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)

    def handle(self, *args, batch_id, **options):
        already_posted = PrintBatch.objects.filter(pk=batch_id, posted_at__isnull=False).exists()
        try:
            batch = print_batch_mark_posted(batch_id=batch_id)
        except PrintBatch.DoesNotExist:
            raise CommandError(_("Aucun lot d'impression n° %(id)s.") % {"id": batch_id}) from None
        if already_posted:
            self.stdout.write(
                _("Le lot n° %(id)s était déjà remis à La Poste le %(date)s : rien n'a changé.")
                % {"id": batch.pk, "date": f"{timezone.localtime(batch.posted_at):%d/%m/%Y %H:%M}"}
            )
            return
        count = batch.letters.count()
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Lot n° %(id)s remis à La Poste : %(count)s courrier marqué envoyé.",
                    "Lot n° %(id)s remis à La Poste : %(count)s courriers marqués envoyés.",
                    count,
                )
                % {"id": batch.pk, "count": count}
            )
        )
