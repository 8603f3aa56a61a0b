from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "portail.backoffice"
    verbose_name = _("Espace agents")

    def ready(self):
        from django.contrib import admin

        from portail.backoffice.admin import BackofficeAdminSite

        # The Django admin (/gestion/) becomes an OTP admin site open to verified administrators only;
        # its login page sends to the agents' login (password, then TOTP). See docs/backoffice.md.
        admin.site.__class__ = BackofficeAdminSite
        # Groups and their permissions after every migrate (permissions only exist once each app has
        # migrated, so this runs for every app and is idempotent).
        post_migrate.connect(roles_sync_on_migrate, dispatch_uid="portail.backoffice.roles_sync")


def roles_sync_on_migrate(sender, using="default", apps=None, **kwargs):
    from portail.backoffice.roles import roles_sync

    roles_sync(using=using)
