from django.urls import path

from portail.benefits import statement_views

urlpatterns = [
    path("", statement_views.statement_list_view, name="statements"),
    path("<int:statement_id>/", statement_views.statement_view, name="statement"),
    path("<int:statement_id>/pdf/", statement_views.statement_pdf_view, name="statement_pdf"),
    path("<int:statement_id>/duplicata/", statement_views.statement_duplicate_view, name="statement_duplicate"),
]
