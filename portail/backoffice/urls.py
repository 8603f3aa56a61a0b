from django.urls import path

from portail.backoffice import auth_views, inbox, views

app_name = "backoffice"

# Everything stays under /agents/: agents keep access during planned maintenance.
urlpatterns = [
    path("connexion/", auth_views.login_view, name="login"),
    path("connexion/code/", auth_views.login_token_view, name="login_token"),
    path("connexion/activation/", auth_views.login_enrol_view, name="login_enrol"),
    path("connexion/mot-de-passe/", auth_views.login_password_view, name="login_password"),
    path("deconnexion/", auth_views.logout_view, name="logout"),
    path("", views.dashboard_view, name="dashboard"),
    path("messages/", inbox.inbox_view, name="inbox"),
    path("messages/<int:thread_id>/", inbox.thread_view, name="thread"),
    path("messages/<int:thread_id>/repondre/", inbox.thread_answer_view, name="thread_answer"),
    path("messages/<int:thread_id>/attribuer/", inbox.thread_assign_view, name="thread_assign"),
    path("messages/<int:thread_id>/clore/", inbox.thread_close_view, name="thread_close"),
    path("messages/pieces-jointes/<int:attachment_id>/", inbox.thread_attachment_view, name="thread_attachment"),
    path("assures/", views.member_search_view, name="member_search"),
    path("assures/<int:member_id>/", views.member_detail_view, name="member"),
    path("assures/<int:member_id>/debloquer/", views.member_unlock_view, name="member_unlock"),
    path("assures/<int:member_id>/code-provisoire/", views.member_code_view, name="member_code"),
    path("courriers/", views.letters_view, name="letters"),
    path("courriers/lots/", views.letters_export_view, name="letters_export"),
    path("courriers/lots/<int:batch_id>/pdf/", views.batch_download_view, {"what": "pdf"}, name="batch_pdf"),
    path(
        "courriers/lots/<int:batch_id>/manifeste/",
        views.batch_download_view,
        {"what": "manifeste"},
        name="batch_manifest",
    ),
    path("courriers/lots/<int:batch_id>/remis/", views.batch_posted_view, name="batch_posted"),
    path("flux/", views.feeds_view, name="feeds"),
    path("flux/registre/<int:run_id>/", views.register_run_view, name="register_run"),
    path("flux/paiements/<int:run_id>/", views.payment_run_view, name="payment_run"),
    path("journal/", views.audit_view, name="audit"),
    path("journal/export.csv", views.audit_export_view, name="audit_export"),
]
