import datetime as dt
import io
import json
import logging
import os
import uuid
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portail.operations.logs import JsonFormatter, RequestIdFilter, mask_secrets
from portail.operations.maintenance import maintenance_clear_cache


class TestHealth:
    @pytest.mark.django_db
    def test_healthz_answers_without_touching_the_database(self, client, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = client.get("/healthz")
        assert response.status_code == HTTPStatus.OK and response.content == b"ok\n"

    @pytest.mark.django_db
    def test_readyz_reports_each_part_and_the_queue_depth(self, client):
        response = client.get("/readyz")
        assert response.status_code == HTTPStatus.OK
        report = response.json()
        assert report["ready"] is True
        assert report["database"]["ok"] and report["cache"]["ok"] and report["queue"]["ok"]
        assert isinstance(report["queue"]["depth"], int)

    @pytest.mark.django_db
    def test_readyz_says_which_part_is_down_without_details(self, client, settings):
        settings.CACHES = {
            "default": {"BACKEND": "portail.operations.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
        }
        response = client.get("/readyz")
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        report = response.json()
        assert report["cache"]["ok"] is False and report["database"]["ok"] is True
        assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
class TestMaintenance:
    @pytest.fixture(autouse=True)
    def _fresh(self):
        maintenance_clear_cache()
        yield
        maintenance_clear_cache()

    def test_the_command_closes_the_member_space_with_503_and_retry_after(self, client):
        out = io.StringIO()
        call_command("maintenance", "on", "--minutes", "90", "--reason", "mise à jour du service", stdout=out)
        assert "Maintenance en cours jusqu'au" in out.getvalue()
        response = client.get(reverse("public:member_space"))
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert 85 * 60 <= int(response["Retry-After"]) <= 90 * 60
        page = response.content.decode()
        assert "mise à jour du service" in page and "Ce qui fonctionne pendant ce temps" in page
        assert client.post(reverse("benefits_api:push")).status_code == HTTPStatus.SERVICE_UNAVAILABLE
        # Public pages, health checks and the agents' side go on.
        assert client.get(reverse("public:home")).status_code == HTTPStatus.OK
        assert client.get("/healthz").status_code == HTTPStatus.OK
        assert client.get(reverse("backoffice:login")).status_code == HTTPStatus.OK
        call_command("maintenance", "off", stdout=io.StringIO())
        assert client.get(reverse("public:member_space")).status_code == HTTPStatus.OK

    def test_the_setting_switches_it_on_too(self, client, settings):
        settings.PORTAIL_MAINTENANCE_UNTIL = (timezone.now() + dt.timedelta(hours=2)).isoformat()
        settings.PORTAIL_MAINTENANCE_REASON = "migration"
        assert client.get(reverse("public:member_space")).status_code == HTTPStatus.SERVICE_UNAVAILABLE
        settings.PORTAIL_MAINTENANCE_UNTIL = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
        assert client.get(reverse("public:member_space")).status_code == HTTPStatus.OK

    @pytest.mark.parametrize("arguments", [["on"], ["on", "--until", "2001-01-01 06:00"]])
    def test_the_command_refuses_a_missing_or_past_end(self, arguments):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            call_command("maintenance", *arguments, stdout=io.StringIO())


@pytest.mark.django_db
class TestOutage:
    @pytest.fixture(autouse=True)
    def _urls(self, settings):
        settings.ROOT_URLCONF = "portail.operations.tests.urls"

    @pytest.mark.parametrize("path", ["/test/database-gone/", "/test/redis-gone/"])
    def test_a_lost_database_or_redis_gives_a_calm_503_page(self, path):
        client = Client(raise_request_exception=False)
        response = client.get(path)
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response["Retry-After"] == "30"
        page = response.content.decode()
        assert "Service momentanément interrompu" in page
        assert "Traceback" not in page and "127.0.0.1" not in page and "secret" not in page

    def test_a_bug_gives_the_500_page_without_a_trace(self):
        response = Client(raise_request_exception=False).get("/test/bug/")
        assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
        assert (
            "une erreur s'est produite" in response.content.decode()
            and "ZeroDivision" not in response.content.decode()
        )


class TestLogs:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("nir=2850369138583 refused", "nir=***583 refused"),
            ("NIR 2 85 03 69 138 583 61 typed", "NIR ***361 typed"),
            ("corse 253072B07300470", "corse ***470"),
            ("code 48207315", "code ***315"),
            ("payment 1234567 of 12,50 €", "payment 1234567 of 12,50 €"),
            ("on 26/11/2026 at 16:51", "on 26/11/2026 at 16:51"),
        ],
    )
    def test_nirs_and_codes_are_masked(self, text, expected):
        assert mask_secrets(text) == expected

    def test_one_json_object_a_line_with_the_request_id(self):
        record = logging.LogRecord("portail", logging.WARNING, __file__, 1, "login %s", ("2850369138583",), None)
        RequestIdFilter().filter(record)
        entry = json.loads(JsonFormatter().format(record))
        assert entry["message"] == "login ***583"
        assert entry["level"] == "WARNING" and entry["request_id"] == "-"

    @pytest.mark.django_db
    def test_responses_carry_the_request_id_and_security_headers(self, client):
        response = client.get(reverse("public:home"), HTTP_X_REQUEST_ID="abcdef123456")
        assert response["X-Request-ID"] == "abcdef123456"
        assert "camera=()" in response["Permissions-Policy"]
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        forged = client.get(reverse("public:home"), HTTP_X_REQUEST_ID="<script>")
        assert forged["X-Request-ID"] != "<script>"


class TestRedisCache:
    def test_one_client_serves_every_call(self):
        # Building a client connects nothing: no Redis is needed to see that the same one comes back.
        from portail.operations.cache import RedisCache

        backend = RedisCache("redis://127.0.0.1:1/0", {})._cache
        assert backend.get_client("a") is backend.get_client("b", write=True) is backend.get_client()

    def test_it_stores_and_counts_on_a_real_redis(self):
        import redis

        from portail.conftest import suite_redis_location
        from portail.operations.cache import RedisCache

        # The suite's Redis database: on REDIS_URL's server, or on the local one (CI runs one in every pass).
        location = suite_redis_location(os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379")
        try:
            redis.Redis.from_url(location, socket_connect_timeout=1).ping()
        except redis.ConnectionError:
            pytest.skip(f"no Redis server answers at {location}")
        cache = RedisCache(location, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}", "TIMEOUT": 60})
        cache.set("compteur", 1)
        assert cache.incr("compteur") == 2 and cache.get_many(["compteur", "absent"]) == {"compteur": 2}
        assert cache.add("compteur", 9) is False and cache.get("compteur") == 2
        cache.delete("compteur")
        assert cache.get("compteur") is None
