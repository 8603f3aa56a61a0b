from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portail.accounts.enums import (
    AccountStatus,
    Outcome,
    ProvisionalCodeStatus,
    SecretQuestion,
    SecurityEventKind,
    UserKind,
)


class User(AbstractUser):
    """Who logs in: a member (through an Account) or a fund agent."""

    kind = models.CharField(_("type"), max_length=10, choices=UserKind.choices, default=UserKind.AGENT)


class AccountQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=AccountStatus.ACTIVE)


class Account(models.Model):
    """A member's online account. A terminated account stays, for the record;
    enrolling again creates a new one."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="account")
    member = models.ForeignKey("registry.Member", on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(_("état"), max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    secret_question = models.CharField(_("question secrète"), max_length=20, choices=SecretQuestion.choices)
    secret_answer_hash = models.CharField(max_length=256)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    email_verified_at = models.DateTimeField(_("e-mail confirmé le"), null=True, blank=True)
    terms_accepted_at = models.DateTimeField(_("conditions acceptées le"))
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    terminated_at = models.DateTimeField(_("résilié le"), null=True, blank=True)
    is_demo = models.BooleanField(
        _("compte de démonstration"),
        default=False,
        help_text=_("Ouvert à tous depuis les pages publiques, en lecture seule, avec des données inventées."),
    )

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("compte")
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status=AccountStatus.ACTIVE), name="one_active_account_per_member"
            )
        ]

    def __str__(self):
        return f"Compte {self.pk}"

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and self.email_verified_at is not None


class ProvisionalCode(models.Model):
    """An 8-digit code sent by post. Only its peppered Argon2id hash is kept."""

    member = models.ForeignKey("registry.Member", on_delete=models.PROTECT, related_name="provisional_codes")
    code_hash = models.CharField(max_length=256)
    status = models.CharField(
        _("état"), max_length=10, choices=ProvisionalCodeStatus.choices, default=ProvisionalCodeStatus.ACTIVE
    )
    issued_at = models.DateTimeField(_("émis le"))
    expires_at = models.DateTimeField(_("expire le"))
    failed_attempts = models.PositiveSmallIntegerField(_("essais erronés"), default=0)
    ended_at = models.DateTimeField(_("fin de validité effective"), null=True, blank=True)
    letter = models.ForeignKey("post.Letter", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("code provisoire")
        verbose_name_plural = _("codes provisoires")
        indexes = [models.Index(fields=["member", "status"])]

    def __str__(self):
        return f"Code provisoire {self.pk} ({self.get_status_display()})"


class CodeOrder(models.Model):
    """Every order of a provisional code, matched or not: the limits count
    these, so that they behave the same for a member and a stranger."""

    nir_digest = models.CharField(max_length=64, db_index=True)
    client_ip = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(db_index=True)
    code = models.ForeignKey(ProvisionalCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["client_ip", "created_at"])]

    def __str__(self):
        return f"Commande de code {self.pk}"


class SecurityEvent(models.Model):
    """Append-only record of what happened to an account: never a code, an
    answer or a NIR."""

    kind = models.CharField(_("événement"), max_length=32, choices=SecurityEventKind.choices)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices)
    member = models.ForeignKey(
        "registry.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="security_events"
    )
    client_ip = models.GenericIPAddressField(_("adresse réseau"), null=True, blank=True)
    detail = models.CharField(_("détail"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("événement de sécurité")
        verbose_name_plural = _("événements de sécurité")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_outcome_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Security events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Security events are append-only.")
