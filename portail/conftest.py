import os
import uuid

import pytest

# With REDIS_URL set, the suite's cache is the real Redis (the lockout and throttle counters run on the
# backend production uses), on a database of its own so that nothing else there is touched.
TEST_REDIS_DB = 9


def suite_redis_location(redis_url: str) -> str:
    """The suite's own database on the Redis server of redis_url."""
    base = redis_url.rsplit("/", 1)[0] if redis_url.rsplit("/", 1)[-1].isdigit() else redis_url.rstrip("/")
    return f"{base}/{TEST_REDIS_DB}"


def _test_cache() -> dict:
    redis_url = os.environ.get("REDIS_URL", "").strip()
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    # A fresh cache per test: a key prefix of its own (the keys expire; the db is the suite's alone).
    return {
        "BACKEND": "portail.operations.cache.RedisCache",
        "LOCATION": suite_redis_location(redis_url),
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "TIMEOUT": 3600,
    }


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Tests use a cheaper Argon2id (same algorithm and pepper, less memory),
    run tasks as soon as their transaction commits, and get a fresh cache each
    (the lockout and throttle counters live there: in memory, or on the real
    Redis when REDIS_URL is set). Letters and print batches are filed under the
    test's own temporary directory, never under var/."""
    settings.PORTAIL_LETTERS_DIR = tmp_path / "letters"
    settings.PORTAIL_PRINT_BATCHES_DIR = tmp_path / "print-batches"
    settings.PORTAIL_ARGON2_MEMORY_KIB = 1024
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.CACHES = {
        "default": _test_cache(),
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }


@pytest.fixture(autouse=True)
def _steady_maintenance_lookup(monkeypatch):
    """Each process looks up planned maintenance at most every few seconds; in
    tests, once per test, so that a page's query count does not depend on how
    long the test took. Starting or stopping maintenance clears it as usual."""
    from portail.operations import maintenance

    monkeypatch.setattr(maintenance, "_CACHE_SECONDS", 3600)
    maintenance.maintenance_clear_cache()
    yield
    maintenance.maintenance_clear_cache()


@pytest.fixture(autouse=True)
def _french_to_start_with():
    """Every test starts in French, whatever language an earlier test's request left active in this thread
    (LocaleMiddleware activates the request's language and nothing deactivates it afterwards)."""
    from django.utils import translation

    translation.activate("fr")
    yield
    translation.deactivate()
