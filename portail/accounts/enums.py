from django.db import models
from django.utils.translation import gettext_lazy as _


class UserKind(models.TextChoices):
    MEMBER = "member", _("Assuré")
    AGENT = "agent", _("Agent de la caisse")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Actif")
    TERMINATED = "terminated", _("Résilié")


class ProvisionalCodeStatus(models.TextChoices):
    ACTIVE = "active", _("En cours de validité")
    USED = "used", _("Utilisé")
    REPLACED = "replaced", _("Remplacé par une nouvelle demande")
    VOID = "void", _("Annulé après trop d'essais")
    EXPIRED = "expired", _("Expiré")


class SecretQuestion(models.TextChoices):
    FIRST_SCHOOL = "first_school", _("Quel est le nom de votre première école ?")
    CHILDHOOD_STREET = "childhood_street", _("Dans quelle rue habitiez-vous à 10 ans ?")
    FIRST_PET = "first_pet", _("Quel était le nom de votre premier animal ?")
    PARENTS_MEETING_CITY = "parents_city", _("Dans quelle ville vos parents se sont-ils rencontrés ?")
    CHILDHOOD_FRIEND = "childhood_friend", _("Quel est le prénom de votre meilleur ami d'enfance ?")
    FIRST_JOB_CITY = "first_job_city", _("Dans quelle ville avez-vous eu votre premier emploi ?")


class SecurityEventKind(models.TextChoices):
    CODE_ORDERED = "code_ordered", _("Code provisoire commandé")
    CODE_ORDER_REFUSED = "code_order_refused", _("Commande de code refusée (limite atteinte)")
    CODE_VOIDED = "code_voided", _("Code provisoire annulé après trop d'essais")
    LETTER_POSTED = "letter_posted", _("Courrier posté")
    LOGIN_SUCCEEDED = "login_succeeded", _("Connexion réussie")
    LOGIN_FAILED = "login_failed", _("Échec de connexion")
    LOGIN_THROTTLED = "login_throttled", _("Connexions suspendues pour cette adresse réseau")
    ACCOUNT_LOCKED = "account_locked", _("Compte bloqué")
    ACCOUNT_UNLOCKED = "account_unlocked", _("Compte débloqué")
    ACCOUNT_CREATED = "account_created", _("Compte créé")
    TERMS_REFUSED = "terms_refused", _("Conditions d'utilisation refusées")
    PERSONAL_CODE_CHANGED = "personal_code_changed", _("Code personnel changé")
    SECRET_ANSWER_FAILED = "secret_answer_failed", _("Mauvaise réponse à la question secrète")
    EMAIL_VERIFICATION_SENT = "email_verification_sent", _("Lien de confirmation d'e-mail envoyé")
    EMAIL_VERIFIED = "email_verified", _("Adresse e-mail confirmée")
    RECOVERY_LINK_SENT = "recovery_link_sent", _("Lien de récupération envoyé par e-mail")
    LOGOUT = "logout", _("Déconnexion")
    EMAIL_CHANGED = "email_changed", _("Adresse e-mail changée")
    SECRET_QUESTION_CHANGED = "secret_question_changed", _("Question secrète changée")
    REAUTHENTICATION_FAILED = "reauthentication_failed", _("Code personnel erroné lors d'une modification")
    ACCOUNT_TERMINATED = "account_terminated", _("Compte résilié")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Réussi")
    FAILURE = "failure", _("Échoué")
    REFUSED = "refused", _("Refusé")
