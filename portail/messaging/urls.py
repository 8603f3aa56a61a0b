from django.urls import path

from portail.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.thread_list_view, name="threads"),
    path("nouveau-message/", views.thread_new_view, name="thread_new"),
    path("<int:thread_id>/", views.thread_view, name="thread"),
    path("pieces-jointes/<int:attachment_id>/", views.attachment_view, name="attachment"),
]
