from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "portail.public"
    verbose_name = "Informations publiques"
