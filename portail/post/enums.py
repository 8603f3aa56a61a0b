from django.db import models
from django.utils.translation import gettext_lazy as _


class LetterKind(models.TextChoices):
    """What a postal letter is about. Each kind has one renderer module in portail/post/letters/."""

    PROVISIONAL_CODE = "provisional_code", _("Code confidentiel provisoire")
    MONTHLY_STATEMENT = "monthly_statement", _("Relevé mensuel de remboursements")
    STATEMENT_DUPLICATE = "statement_duplicate", _("Duplicata d'un relevé mensuel")
    ACCOUNT_TERMINATED = "account_terminated", _("Confirmation de résiliation du compte")


class LetterStatus(models.TextChoices):
    """queued → rendered → batched → posted."""

    QUEUED = "queued", _("En attente de mise en page")
    RENDERED = "rendered", _("Mis en page, à imprimer")
    BATCHED = "batched", _("Dans un lot d'impression")
    POSTED = "posted", _("Remis à La Poste")


class EmailKind(models.TextChoices):
    """Why an e-mail is sent. Its content never holds a code or a NIR."""

    EMAIL_CONFIRMATION = "email_confirmation", _("Confirmation de l'adresse e-mail")
    ACCOUNT_RECOVERY = "account_recovery", _("Réinitialisation du code personnel")
    ACCOUNT_CREATED = "account_created", _("Compte créé")
    ACCOUNT_LOCKED = "account_locked", _("Compte bloqué")
    ACCOUNT_TERMINATED = "account_terminated", _("Résiliation du compte")
    NEW_MESSAGE = "new_message", _("Nouvelle réponse dans la messagerie")
    STATEMENT_AVAILABLE = "statement_available", _("Nouveau relevé disponible")
    OTHER = "other", _("Autre")


class EmailStatus(models.TextChoices):
    """queued → sending → sent, or failed (a failed e-mail may be sent again)."""

    QUEUED = "queued", _("En attente d'envoi")
    SENDING = "sending", _("Envoi en cours")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec de l'envoi")
