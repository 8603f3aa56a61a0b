import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests serve static files from the apps, without collectstatic's manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
