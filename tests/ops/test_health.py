"""/healthz answers while the process runs; /readyz only when the database, the broker (when
configured) and Label Studio answer — against the real ones, and ones that refuse."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from workbench.labelstudio import connection

pytestmark = pytest.mark.django_db

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port that refuses connections for as long as the test holds it: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_healthz_answers_without_touching_anything(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.label_studio
def test_readyz_is_ready_with_the_real_database_broker_and_label_studio(real_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "label_studio": True,
    }
    assert body["checks"]["broker"]["detail"] == "reachable"


@pytest.mark.label_studio
def test_readyz_is_503_and_names_the_broker_when_it_is_down(real_gateway, settings, refusing_port) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{refusing_port}/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False
    assert (checks["database"]["ok"], checks["label_studio"]["ok"]) == (True, True)


def test_readyz_is_503_when_label_studio_does_not_answer(settings, refusing_port) -> None:  # type: ignore[no-untyped-def]
    settings.LABEL_STUDIO_URL = f"http://127.0.0.1:{refusing_port}"
    settings.LABEL_STUDIO_API_KEY = "token"
    connection.reset()
    try:
        response = Client().get("/readyz")
    finally:
        connection.reset()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["label_studio"] == {
        "ok": False,
        "detail": f"{settings.LABEL_STUDIO_URL}: ConnectError",
    }
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "detail": "not configured: tasks run in-process"}


@pytest.mark.label_studio
def test_readyz_is_503_when_label_studio_refuses_our_token(label_studio, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LABEL_STUDIO_URL = label_studio.url
    settings.LABEL_STUDIO_API_KEY = "not-the-token"
    connection.reset()
    try:
        response = Client().get("/readyz")
    finally:
        connection.reset()
    assert response.status_code == 503
    assert response.json()["checks"]["label_studio"]["detail"] == f"{label_studio.url}: HTTP 401"


def test_readyz_is_503_when_the_database_is_down(refusing_port: int, tmp_path: Path) -> None:
    """In a process of its own whose database refuses connections (a real psycopg connect)."""
    code = (
        "from django.test import Client; r = Client().get('/readyz'); "
        "import json; print(json.dumps([r.status_code, r.json()]))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "CELERY"))},
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{refusing_port}/nowhere",
        "WORKBENCH_DEV_SECRETS": "true",
        "WORKBENCH_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["checks"]["broker"]["ok"] is True  # not configured
    assert "readiness: the database does not answer" in result.stderr  # the full error is logged
