from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portail.backoffice.enums import AgentRole
from portail.backoffice.services import agent_create


class Command(BaseCommand):
    help = (
        "Create an agent (or change an existing agent's role). A new agent gets a one-time password; "
        "the first login enrols the TOTP authenticator, then asks for a password of their own."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in AgentRole])
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Existing agent: new one-time password, authenticators removed (lost phone, forgotten password).",
        )

    def handle(self, *args, username, role, reset, **options):
        try:
            result = agent_create(username=username, role=AgentRole(role), reset=reset)
        except ValueError:
            raise CommandError(_("Cet identifiant appartient à un assuré.")) from None
        role_label = AgentRole(role).label
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Agent « %(username)s » créé, rôle : %(role)s.") % {"username": username, "role": role_label}
                )
            )
        else:
            self.stdout.write(
                _("L'agent « %(username)s » existe déjà ; rôle : %(role)s.")
                % {"username": username, "role": role_label}
            )
        if result.password:
            self.stdout.write(_("Mot de passe à usage unique : %(password)s") % {"password": result.password})
            self.stdout.write(
                _(
                    "Remettez-le à l'agent par un autre canal que son identifiant. À la première connexion "
                    "(/agents/connexion/), il active son application d'authentification puis choisit son mot de passe."
                )
            )
