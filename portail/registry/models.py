from django.db import models
from django.utils.translation import gettext_lazy as _

from portail.registry.enums import ImportRunStatus, Scheme, Sex
from portail.registry.nir import NIR_LENGTH, Nir, NirError, parse_nir, validate_nir

REJECTIONS_STORED_MAX = 1000


class Fund(models.Model):
    """A fund (caisse) that manages members."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("caisse")
        verbose_name_plural = _("caisses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class MemberQuerySet(models.QuerySet):
    def eligible(self) -> "MemberQuerySet":
        """Members who may use the portal (their scheme is managed here)."""
        return self.filter(scheme__in=Scheme.eligible())

    def with_nir(self, value: str) -> "MemberQuerySet":
        """Members whose NIR is `value` as a person types it (13 or 15 characters, separators allowed).

        An invalid value matches nobody (it never raises): callers that must tell the person what is
        wrong call `parse_nir` first.
        """
        try:
            nir = parse_nir(value)
        except NirError:
            return self.none()
        return self.filter(nir=nir.number)

    def search(self, text: str) -> "MemberQuerySet":
        """Back-office search: by NIR when `text` is one, else by family or first names."""
        try:
            return self.filter(nir=parse_nir(text).number)
        except NirError:
            pass
        query = models.Q()
        for word in text.split():
            query &= models.Q(last_name__icontains=word) | models.Q(first_names__icontains=word)
        return self.filter(query)


class Member(models.Model):
    """A member (assuré) on the fund's register, as fed by the fund's systems of record."""

    nir = models.CharField(
        _("numéro de sécurité sociale"),
        max_length=NIR_LENGTH,
        unique=True,
        validators=[validate_nir],
        help_text=_("13 caractères, sans la clé ni espaces."),
    )
    last_name = models.CharField(_("nom de famille"), max_length=100)
    first_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    address_line1 = models.CharField(_("adresse"), max_length=200)
    address_line2 = models.CharField(_("complément d'adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5)
    city = models.CharField(_("commune"), max_length=100)
    fund = models.ForeignKey(Fund, verbose_name=_("caisse"), on_delete=models.PROTECT, related_name="members")
    scheme = models.CharField(_("régime"), max_length=30, choices=Scheme.choices, default=Scheme.GENERAL)
    email = models.EmailField(_("adresse e-mail connue de la caisse"), blank=True)
    doctor_name = models.CharField(_("médecin traitant"), max_length=150, blank=True)
    doctor_since = models.DateField(_("médecin traitant déclaré depuis le"), null=True, blank=True)
    statements_to_complementary = models.BooleanField(
        _("relevés transmis à la complémentaire santé"),
        default=False,
        help_text=_("Les relevés de prestations sont alors envoyés sur papier même si le compte est actif."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("assuré")
        verbose_name_plural = _("assurés")
        ordering = ["last_name", "first_names", "pk"]
        indexes = [models.Index(fields=["last_name", "birth_date"], name="registry_member_name_birth")]

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_names} ({self.nir_masked})"

    @property
    def nir_parsed(self) -> Nir:
        return parse_nir(self.nir)

    @property
    def nir_formatted(self) -> str:
        """With the key, as on the Vitale card: "2 53 07 2B 073 004 70"."""
        return self.nir_parsed.formatted

    @property
    def nir_masked(self) -> str:
        """Only the last 3 characters of the NIR with its key: "*** 470"."""
        return self.nir_parsed.masked

    @property
    def is_eligible(self) -> bool:
        """False for members whose scheme is managed elsewhere: they must use their own organisation."""
        return self.scheme in Scheme.eligible()

    @property
    def has_declared_doctor(self) -> bool:
        return bool(self.doctor_name)


class Beneficiary(models.Model):
    """A beneficiary (ayant droit) covered through a member, e.g. a child."""

    member = models.ForeignKey(
        Member, verbose_name=_("assuré"), on_delete=models.CASCADE, related_name="beneficiaries"
    )
    last_name = models.CharField(_("nom de famille"), max_length=100)
    first_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))

    class Meta:
        verbose_name = _("ayant droit")
        verbose_name_plural = _("ayants droit")
        ordering = ["birth_date", "pk"]

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_names}"


class ImportRun(models.Model):
    """One run of the register import, for the back office: what was read, written and rejected."""

    file_name = models.CharField(_("fichier"), max_length=500)
    fund = models.ForeignKey(Fund, verbose_name=_("caisse"), on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=ImportRunStatus.choices, default=ImportRunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("commencé le"))
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("lignes lues"), default=0)
    created_count = models.PositiveIntegerField(_("créés"), default=0)
    updated_count = models.PositiveIntegerField(_("mis à jour"), default=0)
    unchanged_count = models.PositiveIntegerField(_("inchangés"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejetés"), default=0)
    # [{"line": 12, "reason": "ligne 12 : ..."}], at most REJECTIONS_STORED_MAX entries.
    rejections = models.JSONField(_("lignes rejetées"), default=list, blank=True)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("import du registre")
        verbose_name_plural = _("imports du registre")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def rejections_truncated(self) -> bool:
        return self.rejected_count > len(self.rejections)
