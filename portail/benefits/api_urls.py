from django.urls import path

from portail.benefits import api

app_name = "benefits_api"

urlpatterns = [
    path("paiements/", api.payments_push_view, name="push"),
]
