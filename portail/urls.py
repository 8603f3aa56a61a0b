from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

handler500 = "portail.operations.views.server_error"

urlpatterns = [
    path("", include("portail.operations.urls")),
    path("", include("portail.public.urls")),
    path("mon-compte/", include("portail.accounts.urls")),
    path("mon-compte/", include("portail.benefits.urls")),
    path("mon-compte/messagerie/", include("portail.messaging.urls")),
    path("api/", include("portail.benefits.api_urls")),
    path("langue/", login_not_required(set_language), name="set_language"),
    path("agents/", include("portail.backoffice.urls")),
    path("gestion/", admin.site.urls),
    path("demo/", include("portail.demo.urls")),
]
