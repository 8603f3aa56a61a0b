from django.db import models
from django.utils.translation import gettext_lazy as _


class Payee(models.TextChoices):
    """Who received the transfer."""

    MEMBER = "member", _("Vous")
    PROFESSIONAL = "professional", _("Le professionnel de santé (tiers payant)")


class ActNature(models.TextChoices):
    """The nature of an act, as the claims system names it."""

    CONSULTATION = "consultation", _("Consultation")
    SPECIALIST = "specialist", _("Consultation de spécialiste")
    PHARMACY = "pharmacy", _("Pharmacie")
    LABORATORY = "laboratory", _("Analyses de laboratoire")
    IMAGING = "imaging", _("Radiologie, imagerie")
    NURSING = "nursing", _("Soins infirmiers")
    PHYSIOTHERAPY = "physiotherapy", _("Kinésithérapie")
    DENTAL = "dental", _("Soins dentaires")
    OPTICAL = "optical", _("Optique")
    HOSPITAL = "hospital", _("Hospitalisation")
    TRANSPORT = "transport", _("Transport sanitaire")
    SICK_LEAVE = "sick_leave", _("Indemnités journalières")
    OTHER = "other", _("Autre acte")


class StatementDelivery(models.TextChoices):
    ONLINE = "online", _("En ligne")
    POST = "post", _("Par courrier")
