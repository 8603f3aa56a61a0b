from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "portail.benefits"
    verbose_name = _("Remboursements et relevés")
