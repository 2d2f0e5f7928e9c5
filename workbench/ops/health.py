"""Readiness checks: each answers (ok, detail) within a few seconds and never raises. /readyz is
open to load balancers, so a detail names what failed (the error's type), never hosts or
credentials from the error message; the logs have the full error."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
from django.conf import settings
from django.db import DatabaseError, connection

from workbench.errors import WorkbenchError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3

Check = Callable[[], tuple[bool, str]]


def database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: the database does not answer", exc_info=True)
        return False, type(exc).__name__
    return True, connection.vendor


def broker() -> tuple[bool, str]:
    if not settings.CELERY_BROKER_URL:
        return True, "not configured: tasks run in-process"
    from workbench.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT_SECONDS)
    except Exception as exc:  # kombu raises transport-specific errors; any of them means "not ready"
        logger.warning("readiness: the broker does not answer", exc_info=True)
        return False, type(exc).__name__
    return True, "reachable"


def label_studio() -> tuple[bool, str]:
    from workbench.labelstudio import connection as ls

    try:
        url, token = ls.credentials()
    except WorkbenchError as exc:
        return False, exc.message
    try:
        response = httpx.get(
            f"{url}/api/current-user/whoami",
            headers={"Authorization": f"Token {token}"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        logger.warning("readiness: Label Studio does not answer", exc_info=True)
        return False, f"{url}: {type(exc).__name__}"
    if response.status_code != 200:
        return False, f"{url}: HTTP {response.status_code}"
    return True, url


CHECKS: dict[str, Check] = {"database": database, "broker": broker, "label_studio": label_studio}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    results = {name: check() for name, check in CHECKS.items()}
    body = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()}
    return all(ok for ok, _ in results.values()), body
