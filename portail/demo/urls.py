from django.urls import path

from portail.demo import account_views, views

app_name = "demo"

urlpatterns = [
    path("compte/", account_views.demo_account_open, name="account"),
    path("boite-aux-lettres/", views.letterbox, name="letterbox"),
    path("boite-aux-lettres/courriers/<int:letter_id>.pdf", views.letter_pdf, name="letter_pdf"),
]
