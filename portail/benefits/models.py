import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from portail.benefits.enums import ActNature, Payee, StatementDelivery


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return dt.date(index // 12, index % 12 + 1, 1)


class PaymentQuerySet(models.QuerySet):
    def for_member(self, member) -> "PaymentQuerySet":
        return self.filter(member=member)

    def last_months(self, months: int, *, today: dt.date) -> "PaymentQuerySet":
        """Payments of the current month and the `months - 1` before it."""
        return self.filter(paid_on__gte=months_before(today, months - 1))

    def in_month(self, month: dt.date) -> "PaymentQuerySet":
        start = month_start(month)
        return self.filter(paid_on__gte=start, paid_on__lt=months_before(start, -1))

    def with_lines(self) -> "PaymentQuerySet":
        return self.select_related("beneficiary").prefetch_related("lines")


class Payment(models.Model):
    """One transfer from the fund, as the claims system sent it."""

    external_id = models.CharField(_("référence du paiement"), max_length=64)
    # No index of its own: payment_member_paid_on, which starts with the member, serves every lookup by member
    # (and a member's months without a sort).
    member = models.ForeignKey("registry.Member", on_delete=models.PROTECT, related_name="payments", db_index=False)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary",
        verbose_name=_("bénéficiaire des soins"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        help_text=_("Vide quand les soins sont ceux de l'assuré lui-même."),
    )
    paid_on = models.DateField(_("date du paiement"))
    amount = models.DecimalField(_("montant versé"), max_digits=10, decimal_places=2)
    payee = models.CharField(_("versé à"), max_length=12, choices=Payee.choices)
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("paiement")
        ordering = ["-paid_on", "-pk"]
        indexes = [models.Index(fields=["member", "-paid_on"], name="payment_member_paid_on")]
        # A constraint, not unique=True: on PostgreSQL, unique=True on a CharField adds a second index for
        # LIKE 'prefix%' that no query uses (62 MB for 2 million payments).
        constraints = [models.UniqueConstraint(fields=["external_id"], name="payment_external_id_unique")]

    def __str__(self):
        return f"Paiement {self.external_id}"


class PaymentLine(models.Model):
    """One act inside a payment: what was charged, the base, the rate, what was reimbursed."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="lines")
    care_date = models.DateField(_("date des soins"))
    nature = models.CharField(_("nature"), max_length=20, choices=ActNature.choices)
    practitioner = models.CharField(_("professionnel de santé"), max_length=150)
    amount_charged = models.DecimalField(_("montant payé"), max_digits=10, decimal_places=2)
    base = models.DecimalField(_("base de remboursement"), max_digits=10, decimal_places=2)
    rate = models.DecimalField(_("taux"), max_digits=5, decimal_places=2, help_text=_("En pourcentage."))
    reimbursed = models.DecimalField(_("montant remboursé"), max_digits=10, decimal_places=2)
    flat_fee = models.DecimalField(
        _("participation forfaitaire"), max_digits=8, decimal_places=2, default=Decimal("0.00")
    )
    deductible = models.DecimalField(_("franchise médicale"), max_digits=8, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("acte")
        ordering = ["care_date", "pk"]

    def __str__(self):
        return f"{self.get_nature_display()} du {self.care_date:%d/%m/%Y}"

    @property
    def deductions(self) -> Decimal:
        return self.flat_fee + self.deductible


# An act's own fields, in the order of its table's columns after its id and its payment: what the feed
# writes, the payments page reads and the admin shows.
ACT_FIELDS = (
    "care_date",
    "nature",
    "practitioner",
    "amount_charged",
    "base",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
)


class StatementQuerySet(models.QuerySet):
    def for_member(self, member) -> "StatementQuerySet":
        return self.filter(member=member)


class Statement(models.Model):
    """The monthly statement (relevé mensuel): every payment of one month."""

    member = models.ForeignKey("registry.Member", on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(_("mois"), help_text=_("Le premier jour du mois."))
    created_at = models.DateTimeField(_("établi le"), auto_now_add=True)
    delivery = models.CharField(_("envoi"), max_length=8, choices=StatementDelivery.choices)
    payment_count = models.PositiveIntegerField(_("nombre de paiements"))
    total_paid = models.DecimalField(_("total versé"), max_digits=12, decimal_places=2)
    letter = models.ForeignKey("post.Letter", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("relevé mensuel")
        verbose_name_plural = _("relevés mensuels")
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="one_statement_per_member_month")]

    def __str__(self):
        return f"Relevé {self.month:%m/%Y}"

    def payments(self) -> PaymentQuerySet:
        return Payment.objects.for_member(self.member_id).in_month(self.month)


class DuplicateRequest(models.Model):
    """A paper duplicate of a statement, asked by the member: a letter."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="duplicates")
    requested_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    letter = models.ForeignKey("post.Letter", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("duplicata papier")
        verbose_name_plural = _("duplicatas papier")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"Duplicata du {self.statement}"


class FeedSource(models.Model):
    """A system of record allowed to push payments. Its token is stored hashed and can be revoked."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("système émetteur")
        verbose_name_plural = _("systèmes émetteurs")

    def __str__(self):
        return self.name


class PaymentImportRun(models.Model):
    """One import of payments, from a file or a push: its summary and its rejected lines."""

    source = models.CharField(_("origine"), max_length=200)
    started_at = models.DateTimeField(_("commencé le"))
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    lines_read = models.PositiveIntegerField(_("lignes lues"), default=0)
    created_count = models.PositiveIntegerField(_("créés"), default=0)
    unchanged_count = models.PositiveIntegerField(_("déjà connus"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejetés"), default=0)
    rejections = models.JSONField(_("lignes rejetées"), default=list, blank=True)

    class Meta:
        verbose_name = _("import de paiements")
        verbose_name_plural = _("imports de paiements")
        ordering = ["-started_at"]

    def __str__(self):
        return f"Import {self.source} du {self.started_at:%d/%m/%Y %H:%M}"
