from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "portail.registry"
    verbose_name = "Registre des assurés"
