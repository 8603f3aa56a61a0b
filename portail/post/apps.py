from django.apps import AppConfig


class PostConfig(AppConfig):
    name = "portail.post"
    verbose_name = "Courrier et e-mails"
