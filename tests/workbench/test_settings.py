"""Settings come from the environment. DEBUG is off unless set; then a missing secret stops the
start-up unless the machine is declared a development one (DEBUG=true or WORKBENCH_DEV_SECRETS=true)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def django_env(tmp_path: Path, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "LABEL_STUDIO", "WORKBENCH"))}
    for name in ("SECRET_KEY", "DEBUG", "LOG_FORMAT"):
        clean.pop(name, None)
    clean.update(
        {"WORKBENCH_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **env}
    )
    return clean


def django_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=django_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


MISSING = "must be set (a generated one needs DEBUG=true or WORKBENCH_DEV_SECRETS=true)."


def debug_of(tmp_path: Path, **env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**django_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_debug_is_off_unless_set(tmp_path: Path) -> None:
    assert debug_of(tmp_path, WORKBENCH_DEV_SECRETS="true") == "False"
    assert debug_of(tmp_path, DEBUG="true") == "True"


def test_unset_debug_and_a_missing_secret_key_is_a_startup_error(tmp_path: Path) -> None:
    result = django_check(tmp_path, WORKBENCH_WEBHOOK_SECRET="w")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: SECRET_KEY {MISSING}" in result.stderr


def test_without_debug_a_missing_webhook_secret_is_a_startup_error(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="false", SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert f"WORKBENCH_WEBHOOK_SECRET {MISSING}" in result.stderr


def test_a_remote_label_studio_needs_its_api_key(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="true", LABEL_STUDIO_URL="http://ls.example:8080")
    assert "LABEL_STUDIO_API_KEY must be set when LABEL_STUDIO_URL is set." in result.stderr


@pytest.mark.parametrize("switch", [{"DEBUG": "true"}, {"WORKBENCH_DEV_SECRETS": "true"}])
def test_on_a_development_machine_secrets_are_generated_once_and_kept(
    tmp_path: Path, switch: dict[str, str]
) -> None:
    assert django_check(tmp_path, **switch).returncode == 0
    first = (tmp_path / "dev-secrets.json").read_text()
    assert set(json.loads(first)) == {"SECRET_KEY", "WORKBENCH_WEBHOOK_SECRET"}
    assert django_check(tmp_path, **switch).returncode == 0
    assert (tmp_path / "dev-secrets.json").read_text() == first
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode & 0o777) == "0o600"


def test_debug_without_dev_secrets_still_needs_real_ones(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="true", WORKBENCH_DEV_SECRETS="false")
    assert f"SECRET_KEY {MISSING}" in result.stderr
    assert not (tmp_path / "dev-secrets.json").exists()


def test_a_malformed_proxy_header_setting_is_a_startup_error(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="true", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    assert 'SECURE_PROXY_SSL_HEADER must be "HEADER,value"' in result.stderr


def test_logs_are_json_lines_without_debug(tmp_path: Path) -> None:
    code = (
        "import logging; logging.getLogger('workbench.t').warning('hello %s', 'world', extra={'item_id': 7})"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**django_env(tmp_path), "WORKBENCH_DEV_SECRETS": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "hello world"
    assert (record["level"], record["logger"], record["item_id"]) == ("WARNING", "workbench.t", 7)
    assert record["time"].endswith("+00:00")


def test_with_everything_set_and_debug_off_it_starts(tmp_path: Path) -> None:
    result = django_check(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="s" * 50,
        WORKBENCH_WEBHOOK_SECRET="w" * 20,
        ALLOWED_HOSTS="workbench.example",
    )
    assert result.returncode == 0, result.stderr
