import pytest


@pytest.fixture(autouse=True)
def post_settings(settings, tmp_path):
    """Tasks run at once, files go to a temporary directory, e-mails to Django's test outbox."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.PORTAIL_LETTERS_DIR = tmp_path / "letters"
    settings.PORTAIL_PRINT_BATCHES_DIR = tmp_path / "print-batches"
    return settings
