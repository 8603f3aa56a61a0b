from django.urls import include, path

from portail.benefits import views

app_name = "benefits"

urlpatterns = [
    path("paiements/", views.payments_view, name="payments"),
    path("medecin-traitant/", views.doctor_view, name="doctor"),
    path("releves/", include("portail.benefits.statement_urls")),
]
