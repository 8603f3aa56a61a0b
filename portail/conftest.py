import uuid

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Tests use a cheaper Argon2id (same algorithm and pepper, less memory),
    run tasks as soon as their transaction commits, and get a fresh cache each
    (the lockout and throttle counters live there). Letters and print batches
    are filed under the test's own temporary directory, never under var/."""
    settings.PORTAIL_LETTERS_DIR = tmp_path / "letters"
    settings.PORTAIL_PRINT_BATCHES_DIR = tmp_path / "print-batches"
    settings.PORTAIL_ARGON2_MEMORY_KIB = 1024
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
