"""One path through a real Celery worker on Redis: a webhook call is stored by the web process,
queued on Redis, and applied by a separate worker process writing to the same PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from tests import factories
from workbench.annotations.apis import SECRET_HEADER
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.celery import app as celery_app
from workbench.projects import kinds
from workbench.projects.models import Item
from workbench.projects.services import items_push

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings) -> Iterator[subprocess.Popen[str]]:  # type: ignore[no-untyped-def]
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("The Celery worker test needs PostgreSQL: run it through bin/test (DATABASE_URL).")
    redis.Redis.from_url(BROKER).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "WORKBENCH_WEBHOOK_SECRET": settings.WEBHOOK_SECRET,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.update(task_always_eager=False, broker_url=BROKER)
    try:
        yield process
    finally:
        celery_app.conf.update(task_always_eager=eager)
        process.terminate()
        process.wait(timeout=30)


def test_a_webhook_is_applied_by_a_real_worker_through_redis(fake_gateway, worker, settings) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    factories.toxicity_items(project, 1)
    items_push(project=project)
    item = Item.objects.get(project=project)
    payload = {
        "action": "ANNOTATION_CREATED",
        "annotation": {
            "id": 501,
            "task": item.ls_task_id,
            "completed_by": 3,
            "lead_time": 2.5,
            "result": kinds.interface("toxicity_binary").result_for("toxic"),
            "updated_at": "2026-11-01T10:00:00Z",
        },
        "task": {"id": item.ls_task_id, "data": {**item.data, "item_id": item.id}},
        "project": {"id": project.ls_project_id, "token": "secret"},
    }
    response = APIClient().post(
        "/webhooks/label-studio/", payload, format="json", headers={SECRET_HEADER: settings.WEBHOOK_SECRET}
    )
    assert response.status_code == 200

    deadline = time.monotonic() + 90
    while not Annotation.objects.filter(project=project).exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.terminate()
            output = worker.communicate(timeout=30)[0]
            pytest.fail(f"the worker did not apply the event; its log:\n{output[-3000:]}")
        time.sleep(0.2)
    annotation = Annotation.objects.get(project=project)
    assert (annotation.ls_annotation_id, annotation.label, annotation.source) == (501, "toxic", "webhook")
    assert WebhookEvent.objects.get(id=response.json()["received"]).processed_at is not None
