"""Fixtures for the integration tests: Redis as the broker, a real Celery worker process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from django.db import connection

from tests.integration.worker import BROKER, ROOT, Worker, reset_producer_pool


@pytest.fixture
def broker(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The web side enqueues to Redis (an empty test database of it) instead of running tasks."""
    redis.Redis.from_url(BROKER).flushdb()
    settings.CELERY_BROKER_URL = BROKER
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_producer_pool()
    yield BROKER
    reset_producer_pool()
    redis.Redis.from_url(BROKER).flushdb()


def worker_env(broker: str, settings, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a worker process on the test database, the broker and this worktree."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail(
            "The Celery worker tests need PostgreSQL: run them with DATABASE_URL set (bin/test does)."
        )
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),  # this worktree's code, whatever is installed in the venv
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "WORKBENCH_WEBHOOK_SECRET": settings.WEBHOOK_SECRET,
        # A round the worker runs keeps its model where this test's settings say (tmp with
        # the hashed_features fixture), not in the shared var/.
        "WORKBENCH_ROUND_MODELS_DIR": str(settings.ROUND_MODELS_DIR),
        **extra,
    }


@pytest.fixture
def celery_worker_process(broker: str, settings, label_studio) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    """A worker, not yet started (``start()``), on the test database and the real Label Studio."""
    env = worker_env(
        broker, settings, LABEL_STUDIO_URL=label_studio.url, LABEL_STUDIO_API_KEY=label_studio.token
    )
    worker = Worker(env)
    try:
        yield worker
    finally:
        worker.stop()
        worker.remove_log()
