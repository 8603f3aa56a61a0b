from django.urls import path

from portail.accounts import profile_views, views

app_name = "accounts"

# The login page itself is the member-space entry, public:member_space (/mon-compte/).
urlpatterns = [
    path("accueil/", views.home_view, name="home"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("a-bientot/", views.logged_out_view, name="logged_out"),
    path("code-provisoire/", views.code_order_nir_view, name="code_order"),
    path("code-provisoire/identite/", views.code_order_identity_view, name="code_order_identity"),
    path("code-provisoire/demande-enregistree/", views.code_order_done_view, name="code_order_done"),
    path("creation/conditions/", views.enrol_terms_view, name="enrol_terms"),
    path("creation/codes/", views.enrol_codes_view, name="enrol_codes"),
    path("creation/e-mail/", views.enrol_email_view, name="enrol_email"),
    path("e-mail/lien-envoye/", views.email_sent_view, name="email_sent"),
    path("e-mail/renvoyer/", views.email_resend_view, name="email_resend"),
    path("e-mail/confirmer/<str:token>/", views.email_confirm_view, name="email_confirm"),
    path("probleme-d-acces/", views.access_problems_view, name="access_problems"),
    path("probleme-d-acces/par-e-mail/", views.recovery_request_view, name="recovery_request"),
    path("probleme-d-acces/lien-envoye/", views.recovery_sent_view, name="recovery_sent"),
    path("probleme-d-acces/lien/<str:token>/", views.recovery_link_view, name="recovery_link"),
    path("probleme-d-acces/question-secrete/", views.recovery_question_view, name="recovery_question"),
    path("probleme-d-acces/nouveau-code/", views.recovery_new_code_view, name="recovery_new_code"),
    path("profil/", profile_views.profile_view, name="profile"),
    path("profil/e-mail/", profile_views.email_change_view, name="email_change"),
    path("profil/code-personnel/", profile_views.code_change_view, name="code_change"),
    path("profil/question-secrete/", profile_views.question_change_view, name="question_change"),
    path("resiliation/", profile_views.terminate_view, name="terminate"),
    path("resiliation/confirmee/", profile_views.terminated_view, name="terminated"),
]
