import pytest


@pytest.fixture(autouse=True)
def _attachments_dir(settings, tmp_path):
    """Attachments are filed under the test's own temporary directory, never under var/."""
    settings.PORTAIL_ATTACHMENTS_DIR = tmp_path / "attachments"
