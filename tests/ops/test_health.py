"""/healthz answers while the process runs; /readyz only when the database, the broker (when
configured) and Label Studio answer — against the real ones, and ones that refuse."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

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
