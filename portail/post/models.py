from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from portail.post.enums import EmailKind, EmailStatus, LetterKind, LetterStatus


class PrintBatch(models.Model):
    """A set of rendered letters exported together: one PDF to print and a CSV manifest."""

    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.CharField(_("créé par"), max_length=150, blank=True)
    posted_at = models.DateTimeField(_("remis à La Poste le"), null=True, blank=True)
    # Relative to settings.PORTAIL_PRINT_BATCHES_DIR.
    pdf_path = models.CharField(_("fichier PDF"), max_length=255, blank=True)
    manifest_path = models.CharField(_("manifeste"), max_length=255, blank=True)
    letter_count = models.PositiveIntegerField(_("nombre de courriers"), default=0)

    class Meta:
        verbose_name = _("lot d'impression")
        verbose_name_plural = _("lots d'impression")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return _("Lot d'impression n° %(id)s") % {"id": self.pk}

    @property
    def pdf_file(self) -> Path | None:
        return Path(settings.PORTAIL_PRINT_BATCHES_DIR) / self.pdf_path if self.pdf_path else None

    @property
    def manifest_file(self) -> Path | None:
        return Path(settings.PORTAIL_PRINT_BATCHES_DIR) / self.manifest_path if self.manifest_path else None


class LetterQuerySet(models.QuerySet):
    def to_print(self):
        """Rendered letters that no print batch holds yet."""
        return self.filter(status=LetterStatus.RENDERED, batch__isnull=True)


class Letter(models.Model):
    """A postal letter to a member, addressed from the register, never from what someone typed."""

    member = models.ForeignKey(
        "registry.Member", on_delete=models.PROTECT, related_name="letters", verbose_name=_("assuré")
    )
    kind = models.CharField(_("type"), max_length=40, choices=LetterKind)
    status = models.CharField(_("état"), max_length=20, choices=LetterStatus, default=LetterStatus.QUEUED)

    # The recipient as the register had it when the letter was ordered.
    recipient_name = models.CharField(_("destinataire"), max_length=200)
    recipient_address_line1 = models.CharField(_("adresse"), max_length=200)
    recipient_address_line2 = models.CharField(_("complément d'adresse"), max_length=200, blank=True)
    recipient_postal_code = models.CharField(_("code postal"), max_length=10)
    recipient_city = models.CharField(_("commune"), max_length=100)

    # What the letter says, without secrets (dates, references).
    context = models.JSONField(_("contenu"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # What must not outlive the printing (a code): emptied once the PDF is filed.
    secret_context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    # Relative to settings.PORTAIL_LETTERS_DIR.
    pdf_path = models.CharField(_("fichier PDF"), max_length=255, blank=True)
    page_count = models.PositiveSmallIntegerField(_("pages"), default=0)
    batch = models.ForeignKey(
        PrintBatch,
        on_delete=models.PROTECT,
        related_name="letters",
        null=True,
        blank=True,
        verbose_name=_("lot d'impression"),
    )

    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("mis en page le"), null=True, blank=True)
    batched_at = models.DateTimeField(_("mis en lot le"), null=True, blank=True)
    posted_at = models.DateTimeField(_("remis à La Poste le"), null=True, blank=True)

    objects = LetterQuerySet.as_manager()

    class Meta:
        verbose_name = _("courrier")
        verbose_name_plural = _("courriers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "batch"], name="post_letter_status_batch")]

    def __str__(self):
        return _("Courrier n° %(id)s (%(kind)s)") % {"id": self.pk, "kind": self.get_kind_display()}

    @property
    def pdf_file(self) -> Path | None:
        return Path(settings.PORTAIL_LETTERS_DIR) / self.pdf_path if self.pdf_path else None

    @property
    def address_lines(self) -> list[str]:
        """The address block as printed: name, street lines, then "POSTAL CODE CITY" in capitals."""
        lines = [self.recipient_name, self.recipient_address_line1, self.recipient_address_line2]
        lines.append(f"{self.recipient_postal_code} {self.recipient_city.upper()}")
        return [line for line in lines if line.strip()]


class Email(models.Model):
    """An e-mail, saved before it is sent so that nothing is lost and nothing goes twice."""

    to = models.EmailField(_("destinataire"))
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(_("texte"))
    kind = models.CharField(_("type"), max_length=40, choices=EmailKind)
    member = models.ForeignKey(
        "registry.Member",
        on_delete=models.SET_NULL,
        related_name="emails",
        null=True,
        blank=True,
        verbose_name=_("assuré"),
    )
    status = models.CharField(_("état"), max_length=20, choices=EmailStatus, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="post_email_status")]

    def __str__(self):
        return _("E-mail n° %(id)s à %(to)s") % {"id": self.pk, "to": self.to}
