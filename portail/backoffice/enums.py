from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentRole(models.TextChoices):
    """What an agent may do. Each role includes the ones before it: agent < supervisor < administrator.

    A role is a Django group (named by the label, see roles.GROUP_NAMES); an agent holds one."""

    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Superviseur")
    ADMINISTRATOR = "administrator", _("Administrateur")

    @property
    def rank(self) -> int:
        return list(AgentRole).index(self)

    def includes(self, other: "AgentRole") -> bool:
        return self.rank >= AgentRole(other).rank

    @property
    def is_supervisor(self) -> bool:
        """Supervisor or administrator: letters, feeds, audit log."""
        return self.includes(AgentRole.SUPERVISOR)

    @property
    def is_administrator(self) -> bool:
        return self.includes(AgentRole.ADMINISTRATOR)


class AccessReason(models.TextChoices):
    """Why an agent opens a member's file: chosen before anything is shown, kept in the audit log."""

    MEMBER_MESSAGE = "member_message", _("Réponse à un message")
    MEMBER_CALL = "member_call", _("Appel de l'assuré")
    MEMBER_LETTER = "member_letter", _("Courrier de l'assuré")
    MEMBER_VISIT = "member_visit", _("Accueil de l'assuré au guichet")
    RETURNED_LETTER = "returned_letter", _("Courrier revenu non distribué")
    QUALITY_CHECK = "quality_check", _("Contrôle qualité")
    AUTHORISED_THIRD_PARTY = "authorised_third_party", _("Demande d'un tiers autorisé")


class AgentAction(models.TextChoices):
    """What an audit row records."""

    LOGIN = "login", _("Connexion à l'espace agents")
    LOGOUT = "logout", _("Déconnexion")
    MEMBER_SEARCH = "member_search", _("Recherche d'un assuré")
    MEMBER_VIEWED = "member_viewed", _("Consultation du dossier d'un assuré")
    ACCOUNT_UNLOCKED = "account_unlocked", _("Déblocage du compte")
    PROVISIONAL_CODE_SENT = "provisional_code_sent", _("Nouveau code provisoire envoyé par courrier")
    PRINT_BATCH_EXPORTED = "print_batch_exported", _("Lot d'impression créé")
    PRINT_BATCH_DOWNLOADED = "print_batch_downloaded", _("Lot d'impression téléchargé")
    PRINT_BATCH_POSTED = "print_batch_posted", _("Lot d'impression remis à La Poste")
    AUDIT_EXPORTED = "audit_exported", _("Export du journal des accès")
    THREAD_ANSWERED = "thread_answered", _("Réponse à un message de l'assuré")
    THREAD_ASSIGNED = "thread_assigned", _("Attribution d'une conversation")
    THREAD_CLOSED = "thread_closed", _("Clôture d'une conversation")
    ATTACHMENT_DOWNLOADED = "attachment_downloaded", _("Pièce jointe de l'assuré téléchargée")
