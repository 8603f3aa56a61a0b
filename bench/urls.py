"""The portal's URLs plus one bare view, the reference for page throughput."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from portail.urls import urlpatterns as portal_urlpatterns


@login_not_required
def bare_view(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare_view, name="bench_bare"), *portal_urlpatterns]
