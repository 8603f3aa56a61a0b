"""Health checks, and the pages shown when something is down."""

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency
    RedisError = OSError

OUTAGE_ERRORS = (DatabaseError, RedisError, ConnectionError)
OUTAGE_RETRY_AFTER = 30


@login_not_required
@never_cache
@transaction.non_atomic_requests
def healthz(request):
    """Alive: answers as long as the process does, touching nothing else."""
    return HttpResponse("ok\n", content_type="text/plain")


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "engine": connection.vendor}


def _check_cache() -> dict:
    cache.set("readyz", "ok", 10)
    if cache.get("readyz") != "ok":
        raise ConnectionError("cache did not return what was stored")
    return {"ok": True, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _check_queue() -> dict:
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_rq"):
        import django_rq

        queue = django_rq.get_queue("default")
        return {"ok": True, "backend": "rq", "depth": queue.count}
    if backend.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        depth = DBTaskResult.objects.filter(status="READY").count()
        return {"ok": True, "backend": "database", "depth": depth}
    return {"ok": True, "backend": backend.rsplit(".", 1)[-1], "depth": 0}


@login_not_required
@never_cache
@transaction.non_atomic_requests
def readyz(request):
    """Ready: the database, the cache and the task queue each answer. Says which
    does not, never why in detail (no host, no credentials)."""
    report = {}
    for name, check in (("database", _check_database), ("cache", _check_cache), ("queue", _check_queue)):
        try:
            report[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure makes the service not ready
            report[name] = {"ok": False, "error": type(error).__name__}
    ready = all(part["ok"] for part in report.values())
    return JsonResponse({"ready": ready, **report}, status=200 if ready else 503)


def server_error(request):
    """Django's handler500. A database or Redis outage gets a calm 503 page
    saying the service is interrupted; anything else the 500 page. Neither
    touches the database, and neither shows a stack trace."""
    error = sys.exc_info()[1]
    if isinstance(error, OUTAGE_ERRORS):
        body = loader.render_to_string("operations/outage.html", {"retry_after": OUTAGE_RETRY_AFTER})
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
        return response
    return HttpResponseServerError(loader.render_to_string("500.html", {}))
