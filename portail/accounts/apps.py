from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    verbose_name = "Comptes des assurés"

    def ready(self):
        from portail.accounts import signals  # noqa: F401  (connects the receivers)
