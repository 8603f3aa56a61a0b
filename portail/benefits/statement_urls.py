from django.urls import path

from portail.benefits import statement_views

urlpatterns = [
    path("", statement_views.statement_list_view, name="statements"),
]
