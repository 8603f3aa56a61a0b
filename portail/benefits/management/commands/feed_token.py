from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portail.benefits.feed import feed_source_create, feed_source_revoke
from portail.benefits.models import FeedSource

NAME_MAX_LENGTH = FeedSource._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Manage the systems allowed to push payments (POST /api/paiements/): "
        "`create NAME` prints a new token once, `revoke NAME`, `list`."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a sending system and print its token (once)")
        create.add_argument("name")
        revoke = actions.add_parser("revoke", help="refuse the system's token from now on")
        revoke.add_argument("name")
        actions.add_parser("list", help="names, creation and revocation dates (never a token)")

    def handle(self, *args, action, **options):
        if action == "list":
            return self.list()
        name = options["name"].strip()
        if not name or len(name) > NAME_MAX_LENGTH:
            raise CommandError(_("Nom invalide : de 1 à %(max)d caractères.") % {"max": NAME_MAX_LENGTH})
        if action == "create":
            return self.create(name)
        return self.revoke(name)

    def create(self, name: str) -> None:
        try:
            source, token = feed_source_create(name=name)
        except IntegrityError:
            raise CommandError(
                _(
                    "Le système émetteur « %(name)s » existe déjà : choisissez un autre nom, ou renouvelez son jeton "
                    "dans l'administration."
                )
                % {"name": name}
            ) from None
        # The token alone on stdout (TOKEN=$(manage.py feed_token create NAME) works); the notice on stderr.
        self.stderr.write(
            _("Système émetteur « %(name)s » créé. Son jeton d'accès :") % {"name": source.name}, style_func=str
        )
        self.stdout.write(token)
        self.stderr.write(
            _(
                "Copiez-le maintenant : il ne sera plus jamais affiché (seule son empreinte est enregistrée). "
                "Le système l'envoie dans l'en-tête « Authorization: Bearer <jeton> »."
            ),
            style_func=str,
        )

    def revoke(self, name: str) -> None:
        try:
            source = FeedSource.objects.get(name=name)
        except FeedSource.DoesNotExist:
            raise CommandError(_("Aucun système émetteur ne s'appelle « %(name)s ».") % {"name": name}) from None
        if feed_source_revoke(source=source):
            self.stdout.write(_("Jeton de « %(name)s » révoqué : il est refusé dès maintenant.") % {"name": name})
        else:
            self.stdout.write(
                _("Le jeton de « %(name)s » était déjà révoqué depuis le %(date)s.")
                % {"name": name, "date": _when(source.revoked_at)}
            )

    def list(self) -> None:
        sources = FeedSource.objects.order_by("name")
        if not sources:
            self.stdout.write(_("Aucun système émetteur."))
            return
        for source in sources:
            if source.revoked_at:
                state = _("révoqué le %(date)s") % {"date": _when(source.revoked_at)}
            else:
                state = _("actif")
            self.stdout.write(
                _("%(name)s — créé le %(created)s — %(state)s")
                % {"name": source.name, "created": _when(source.created_at), "state": state}
            )


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i")
