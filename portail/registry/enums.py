from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    """The first digit of the NIR."""

    MALE = "1", _("Homme")
    FEMALE = "2", _("Femme")


class Scheme(models.TextChoices):
    """The insurance scheme that manages the member's health cover.

    Only members of the general scheme managed by this fund can use the portal:
    the others (civil servants and students managed by a mutual's local section,
    farmers, other special schemes) must use their own organisation's services.
    """

    GENERAL = "general", _("Régime général")
    LOCAL_MUTUAL_SECTION = "local_mutual_section", _("Section locale mutualiste (fonctionnaires, étudiants)")
    AGRICULTURAL = "agricultural", _("Mutualité sociale agricole")
    OTHER_SPECIAL = "other_special", _("Autre régime spécial")

    @classmethod
    def eligible(cls) -> frozenset["Scheme"]:
        """Schemes whose members may use the portal."""
        return frozenset({cls.GENERAL})


class ImportRunStatus(models.TextChoices):
    RUNNING = "running", _("En cours")
    FINISHED = "finished", _("Terminé")
    FAILED = "failed", _("Échoué")
