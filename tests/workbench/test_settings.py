"""Settings come from the environment; with DEBUG off, missing secrets stop the start-up."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def django_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "LABEL_STUDIO", "WORKBENCH"))}
    clean.pop("SECRET_KEY", None)
    clean.update(
        {"WORKBENCH_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **env}
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_debug_a_missing_secret_key_is_a_startup_error(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="false", WORKBENCH_WEBHOOK_SECRET="w")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_without_debug_a_missing_webhook_secret_is_a_startup_error(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="false", SECRET_KEY="s" * 50)
    assert "WORKBENCH_WEBHOOK_SECRET must be set when DEBUG is off." in result.stderr


def test_a_remote_label_studio_needs_its_api_key(tmp_path: Path) -> None:
    result = django_check(tmp_path, LABEL_STUDIO_URL="http://ls.example:8080")
    assert "LABEL_STUDIO_API_KEY must be set when LABEL_STUDIO_URL is set." in result.stderr


def test_with_debug_on_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    assert django_check(tmp_path).returncode == 0
    first = (tmp_path / "dev-secrets.json").read_text()
    assert django_check(tmp_path).returncode == 0
    assert (tmp_path / "dev-secrets.json").read_text() == first
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode & 0o777) == "0o600"


def test_with_everything_set_and_debug_off_it_starts(tmp_path: Path) -> None:
    result = django_check(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="s" * 50,
        WORKBENCH_WEBHOOK_SECRET="w" * 20,
        ALLOWED_HOSTS="workbench.example",
    )
    assert result.returncode == 0, result.stderr
