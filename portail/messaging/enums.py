from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.TextChoices):
    """What a member writes about: the first question of the new-message form."""

    REIMBURSEMENT = "reimbursement", _("Remboursement")
    VITALE_CARD = "vitale_card", _("Carte Vitale")
    PRIMARY_DOCTOR = "primary_doctor", _("Médecin traitant")
    CHANGE_OF_SITUATION = "change_of_situation", _("Changement de situation")
    CERTIFICATE = "certificate", _("Attestation")
    OTHER = "other", _("Autre")


class ThreadStatus(models.TextChoices):
    """open (the last message is the member's: the fund must answer) → answered (the last message is the
    fund's: waiting for the member) → open again when the member replies; closed by an agent, for good."""

    OPEN = "open", _("En attente de la caisse")
    ANSWERED = "answered", _("Répondu, en attente de l'assuré")
    CLOSED = "closed", _("Clos")


class AuthorKind(models.TextChoices):
    MEMBER = "member", _("Assuré")
    AGENT = "agent", _("Agent de la caisse")


class AttachmentType(models.TextChoices):
    """The only content types accepted, as found from the file's content (never from its name)."""

    PDF = "application/pdf", _("PDF")
    JPEG = "image/jpeg", _("image JPEG")
    PNG = "image/png", _("image PNG")
