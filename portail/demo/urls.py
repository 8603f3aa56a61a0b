from django.urls import path

from portail.demo import views

app_name = "demo"

urlpatterns = [
    path("boite-aux-lettres/", views.letterbox, name="letterbox"),
    path("boite-aux-lettres/courriers/<int:letter_id>.pdf", views.letter_pdf, name="letter_pdf"),
]
