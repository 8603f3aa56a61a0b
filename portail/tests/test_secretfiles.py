import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from portail.secretfiles import read_or_create_secret

REPO = Path(settings.BASE_DIR)


class TestSecretFiles:
    def test_the_environment_wins(self, tmp_path, monkeypatch):
        monkeypatch.setenv("PORTAIL_TEST_SECRET", "from-the-environment")
        assert read_or_create_secret(env_var="PORTAIL_TEST_SECRET", path=tmp_path / "secret") == "from-the-environment"
        assert not (tmp_path / "secret").exists()

    def test_otherwise_generated_once_into_a_private_file(self, tmp_path, monkeypatch):
        monkeypatch.delenv("PORTAIL_TEST_SECRET", raising=False)
        path = tmp_path / "var" / "secret"
        first = read_or_create_secret(env_var="PORTAIL_TEST_SECRET", path=path)
        assert len(first) >= 50
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert read_or_create_secret(env_var="PORTAIL_TEST_SECRET", path=path) == first
        assert list(path.parent.iterdir()) == [path]  # no temporary file left behind

    def test_the_repository_holds_no_secret(self):
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.split()
        if not tracked:
            pytest.skip("not a git checkout: no tracked files to inspect")
        assert not any(name.startswith("var/") or name.endswith(("secret_key", "pepper", ".env")) for name in tracked)

    def test_settings_read_them_from_var_on_first_run(self, tmp_path):
        script = (
            "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'portail.settings'; "
            "from django.conf import settings; print(settings.SECRET_KEY); print(settings.PORTAIL_PEPPER)"
        )
        env = {"PORTAIL_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        output = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        assert output == [(tmp_path / "secret_key").read_text(), (tmp_path / "pepper").read_text()]
        assert output[0] != output[1]
