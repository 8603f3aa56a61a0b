from django.db import models
from django.utils.translation import gettext_lazy as _


class MaintenanceWindow(models.Model):
    """A planned interruption of the member space, switched on by
    `manage.py maintenance on`. The latest row that has not ended is in force."""

    reason = models.CharField(_("raison"), max_length=200)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin prévue"))
    cancelled_at = models.DateTimeField(_("levée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("maintenance programmée")
        ordering = ["-starts_at"]

    def __str__(self):
        return f"Maintenance jusqu'au {self.ends_at:%d/%m/%Y %H:%M}"
