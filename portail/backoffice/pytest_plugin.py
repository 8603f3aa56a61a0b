"""pytest plugin: add "portail.backoffice.pytest_plugin" to `pytest_plugins` in the root conftest.py.

The Django admin requires the second factor (TOTP) since the back office exists: this makes
pytest-django's `admin_client` log its superuser in as verified, so admin tests keep working."""

import pytest


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin client, verified by TOTP."""
    from portail.backoffice.testing import client_log_agent_in

    return client_log_agent_in(client, admin_user)
