import pytest

pytest_plugins = ["portail.testing.browser", "portail.backoffice.pytest_plugin"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests serve static files from the apps, without collectstatic's manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
