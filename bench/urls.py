"""The portal's URLs plus two bare views, the references for page throughput.

`bench/bare/` answers "ok" to anyone; `bench/bare-member/` answers "ok" to a logged-in member, after the
same middleware, session and account checks as every page of the member space (it is the payments
page's reference: what serving any member page costs before the page's own work)."""

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponse
from django.urls import path

from portail.accounts.decorators import member_view
from portail.urls import urlpatterns as portal_urlpatterns


@login_not_required
def bare_view(request):
    return HttpResponse("ok", content_type="text/plain")


@transaction.non_atomic_requests
@member_view
def bare_member_view(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare_view, name="bench_bare"),
    path("bench/bare-member/", bare_member_view, name="bench_bare_member"),
    *portal_urlpatterns,
]
