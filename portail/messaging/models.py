import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portail.messaging.enums import AttachmentType, AuthorKind, ThreadStatus, Topic
from portail.messaging.storage import attachment_storage, attachment_upload_to

BODY_MAX_LENGTH = 4000
SUBJECT_MAX_LENGTH = 120
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_NAME_MAX_LENGTH = 120


class ThreadQuerySet(models.QuerySet):
    """Reads of threads. The member side always starts with `for_member`; the agents' inbox chains the rest."""

    def for_member(self, member) -> "ThreadQuerySet":
        return self.filter(member=member)

    def unread_for_member(self) -> "ThreadQuerySet":
        """Threads with a message from the fund the member has not opened yet."""
        return self.filter(
            Q(last_agent_message_at__isnull=False)
            & (Q(member_last_read_at__isnull=True) | Q(last_agent_message_at__gt=F("member_last_read_at")))
        )

    def unread_for_agents(self) -> "ThreadQuerySet":
        """Threads with a message from the member that no agent has opened since it came."""
        return self.filter(
            Q(last_member_message_at__isnull=False)
            & (Q(agent_last_read_at__isnull=True) | Q(last_member_message_at__gt=F("agent_last_read_at")))
        )

    def waiting_for_fund(self) -> "ThreadQuerySet":
        """Not closed, and the last message is the member's: the fund owes an answer."""
        return self.filter(status=ThreadStatus.OPEN)

    def waiting_for_member(self) -> "ThreadQuerySet":
        return self.filter(status=ThreadStatus.ANSWERED)

    def not_closed(self) -> "ThreadQuerySet":
        return self.exclude(status=ThreadStatus.CLOSED)

    def by_topic(self, topic) -> "ThreadQuerySet":
        return self.filter(topic=topic)

    def assigned_to(self, agent) -> "ThreadQuerySet":
        return self.filter(assigned_to=agent)

    def unassigned(self) -> "ThreadQuerySet":
        return self.filter(assigned_to__isnull=True)

    def older_than(self, delta: dt.timedelta, *, now: dt.datetime | None = None) -> "ThreadQuerySet":
        """Threads whose last message is older than `delta` (e.g. waiting_for_fund().older_than(5 days))."""
        return self.filter(last_message_at__lt=(now or timezone.now()) - delta)

    def oldest_activity_first(self) -> "ThreadQuerySet":
        """The agents' inbox order: who has waited longest comes first."""
        return self.order_by("last_message_at", "pk")

    def newest_activity_first(self) -> "ThreadQuerySet":
        return self.order_by("-last_message_at", "-pk")


class Thread(models.Model):
    """A conversation between one member and the fund, on one topic. All writes go through services.py,
    which keep the denormalised dates and the status in step with the messages."""

    member = models.ForeignKey(
        "registry.Member", on_delete=models.PROTECT, related_name="threads", verbose_name=_("assuré")
    )
    topic = models.CharField(_("thème"), max_length=32, choices=Topic)
    subject = models.CharField(_("objet"), max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(_("état"), max_length=12, choices=ThreadStatus, default=ThreadStatus.OPEN)
    created_at = models.DateTimeField(_("créé le"))
    last_message_at = models.DateTimeField(_("dernier message le"))
    last_member_message_at = models.DateTimeField(_("dernier message de l'assuré le"), null=True, blank=True)
    last_agent_message_at = models.DateTimeField(_("dernier message de la caisse le"), null=True, blank=True)
    member_last_read_at = models.DateTimeField(_("lu par l'assuré le"), null=True, blank=True)
    agent_last_read_at = models.DateTimeField(_("lu par la caisse le"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_threads",
        verbose_name=_("agent chargé"),
    )
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clos par"),
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            # The agents' inbox: threads in a status, by date of the last message.
            models.Index(fields=["status", "last_message_at"], name="messaging_thread_status_last"),
            # The member's list: own threads, newest activity first.
            models.Index(fields=["member", "-last_message_at"], name="messaging_thread_member_last"),
            models.Index(fields=["assigned_to", "status"], name="messaging_thread_assigned"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ThreadStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=ThreadStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="messaging_thread_closed_at_iff_closed",
            ),
        ]

    def __str__(self):
        return f"Conversation {self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.status == ThreadStatus.CLOSED

    @property
    def unread_by_member(self) -> bool:
        return self.last_agent_message_at is not None and (
            self.member_last_read_at is None or self.last_agent_message_at > self.member_last_read_at
        )

    @property
    def unread_by_agents(self) -> bool:
        return self.last_member_message_at is not None and (
            self.agent_last_read_at is None or self.last_member_message_at > self.agent_last_read_at
        )

    @property
    def member_status_label(self) -> str:
        """The status as the member reads it in the list."""
        return {
            ThreadStatus.OPEN: _("En attente de réponse"),
            ThreadStatus.ANSWERED: _("Répondu"),
            ThreadStatus.CLOSED: _("Clos"),
        }[ThreadStatus(self.status)]


class MessageQuerySet(models.QuerySet):
    def for_member(self, member) -> "MessageQuerySet":
        return self.filter(thread__member=member)

    def in_order(self) -> "MessageQuerySet":
        return self.order_by("created_at", "pk")


class Message(models.Model):
    """One message of a thread, from the member or from an agent. Never edited once written."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(_("auteur"), max_length=10, choices=AuthorKind)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages_written",
        verbose_name=_("agent auteur"),
        help_text=_("L'agent qui a écrit le message ; vide pour un message de l'assuré."),
    )
    body = models.TextField(_("texte"), max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(_("écrit le"))

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["thread", "created_at"], name="messaging_message_thread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_kind=AuthorKind.MEMBER, author_user__isnull=True)
                | Q(author_kind=AuthorKind.AGENT, author_user__isnull=False),
                name="messaging_message_agent_has_user",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), BODY_MAX_LENGTH),
                name="messaging_message_body_max_length",
            ),
        ]

    def __str__(self):
        return f"Message {self.pk}"

    @property
    def by_member(self) -> bool:
        return self.author_kind == AuthorKind.MEMBER


class AttachmentQuerySet(models.QuerySet):
    def for_member(self, member) -> "AttachmentQuerySet":
        """The attachments of the member's own threads, whoever attached them."""
        return self.filter(message__thread__member=member)


class Attachment(models.Model):
    """A file joined to a message, checked from its content (see attachments.py), filed under a private
    directory with a random name, and sent back only through a view scoped to its member (or an agent)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(_("nom du fichier"), max_length=ATTACHMENT_NAME_MAX_LENGTH)
    content_type = models.CharField(_("type"), max_length=40, choices=AttachmentType)
    size = models.PositiveIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    file = models.FileField(_("fichier"), storage=attachment_storage, upload_to=attachment_upload_to, max_length=200)
    created_at = models.DateTimeField(_("ajouté le"))

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["pk"]

    def __str__(self):
        return self.original_name

    @property
    def kilobytes(self) -> int:
        return max(1, round(self.size / 1024))
