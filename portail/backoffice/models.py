from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portail.accounts.enums import UserKind
from portail.accounts.models import User
from portail.backoffice.enums import AccessReason, AgentAction

APPEND_ONLY = "The agents' audit log is append-only."


class AgentAccessQuerySet(models.QuerySet):
    """Reads only: bulk updates and deletes are refused like the row methods."""

    def update(self, **kwargs):
        raise ValueError(APPEND_ONLY)

    def delete(self):
        raise ValueError(APPEND_ONLY)

    def with_related(self) -> "AgentAccessQuerySet":
        return self.select_related("agent", "member")


class AgentAccess(models.Model):
    """One line of the agents' audit log: who looked at or acted on what, when and why.

    Append-only: the model refuses updates and deletes, the admin offers neither, and no view of the
    application writes anything but new rows. Never a code, an answer, a hash or a full NIR."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent_accesses", verbose_name=_("agent")
    )
    member = models.ForeignKey(
        "registry.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agent_accesses",
        verbose_name=_("assuré"),
    )
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=AgentAction.choices)
    reason = models.CharField(_("motif"), max_length=32, choices=AccessReason.choices, blank=True)
    detail = models.CharField(_("détail"), max_length=300, blank=True)
    client_ip = models.GenericIPAddressField(_("adresse réseau"), null=True, blank=True)

    objects = AgentAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("accès d'un agent")
        verbose_name_plural = _("journal des accès des agents")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="backoffice_access_member"),
            models.Index(fields=["agent", "-created_at"], name="backoffice_access_agent"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} ({self.pk})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(APPEND_ONLY)


class AgentUserManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=UserKind.AGENT)


class AgentUser(User):
    """The fund's agents only (never a member), for user management in the Django admin."""

    objects = AgentUserManager()

    class Meta:
        proxy = True
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
