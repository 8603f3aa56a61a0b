"""The portal's URLs plus views that fail the way a lost database or Redis does."""

from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from portail.urls import handler500  # noqa: F401
from portail.urls import urlpatterns as portal_urlpatterns


@login_not_required
def database_gone(request):
    raise OperationalError("connection to server at 127.0.0.1 port 5432 failed: password=secret")


@login_not_required
def redis_gone(request):
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")


@login_not_required
def bug(request):
    raise ZeroDivisionError("a bug")


urlpatterns = [
    path("test/database-gone/", database_gone),
    path("test/redis-gone/", redis_gone),
    path("test/bug/", bug),
    *portal_urlpatterns,
]
