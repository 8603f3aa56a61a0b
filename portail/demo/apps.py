from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "portail.demo"
    verbose_name = "Démonstration"
