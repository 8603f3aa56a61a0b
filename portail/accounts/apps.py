from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    verbose_name = "Comptes des assurés"
