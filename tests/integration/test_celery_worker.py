"""Tasks run by a real Celery worker on Redis, against the real Label Studio and PostgreSQL: a
webhook is stored by the web process, queued on Redis, and applied by a separate worker process
that re-reads the annotation from Label Studio; the reconcile endpoint, the beat tasks and the
sweep go the same way. Each test first shows that the web side only queued the task (it is on
Redis and has not run), so none can pass without the worker."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.integration.worker import Worker, queued, reset_producer_pool, wait_for
from workbench.accounts.models import Role
from workbench.annotations import tasks
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.services import webhook_event_receive
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.labelstudio.payloads import WEBHOOK_SECRET_HEADER
from workbench.labelstudio.types import Gateway, LsAnnotation
from workbench.projects.models import Item, Project
from workbench.projects.services import items_push, project_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(real_gateway: Gateway, settings) -> Iterator[Project]:  # type: ignore[no-untyped-def]
    """A project on the real Label Studio whose webhook goes nowhere (port 9 refuses): the
    workbench hears of annotations only as each test says."""
    settings.PUBLIC_URL = "http://127.0.0.1:9"
    project = project_create(name=f"worker {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    factories.toxicity_items(project, 3)
    items_push(project=project)
    yield project
    real_gateway.delete_project(project_id=project.ls_project_id)


def labeled(project: Project, real_gateway: Gateway) -> list[LsAnnotation]:
    """One simulated annotator labels the whole queue in Label Studio."""
    simulate(project=project, annotators=simulated_annotators(1, [0.0]))
    return list(real_gateway.iter_annotations(project_id=project.ls_project_id))


def assert_equal_to_label_studio(project: Project, held: list[LsAnnotation]) -> None:
    ours = {
        a.ls_annotation_id: (a.item_id, a.ls_user_id, a.result)
        for a in Annotation.objects.filter(project=project)
    }
    assert ours == {a.id: (a.task_data["item_id"], a.completed_by, a.result) for a in held}


def webhook_body(annotation_id: int, project: Project) -> dict[str, Any]:
    return {
        "action": "ANNOTATION_CREATED",
        "annotation": {"id": annotation_id},
        "project": {"id": project.ls_project_id, "token": "secret"},
    }


def test_a_webhook_is_queued_on_redis_and_applied_by_the_worker(
    project: Project,
    real_gateway: Gateway,
    celery_worker_process: Worker,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    (first, *_) = held = labeled(project, real_gateway)
    client = APIClient()
    response = client.post(
        "/webhooks/label-studio/",
        webhook_body(first.id, project),
        format="json",
        headers={WEBHOOK_SECRET_HEADER: settings.WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get(id=response.json()["received"])
    assert (queued(), event.processed_at) == (1, None)  # queued, not run here

    celery_worker_process.start()
    wait_for(
        lambda: Annotation.objects.filter(project=project).exists(), 90, "the event", celery_worker_process
    )
    assert_equal_to_label_studio(project, [a for a in held if a.id == first.id])
    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""
    celery_worker_process.assert_succeeded("process_webhook_event", 1)


def test_the_webhook_is_stored_and_answered_200_while_the_broker_is_down(
    project: Project,
    real_gateway: Gateway,
    broker: str,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    reset_producer_pool()
    try:
        response = APIClient().post(
            "/webhooks/label-studio/",
            webhook_body(1, project),
            format="json",
            headers={WEBHOOK_SECRET_HEADER: settings.WEBHOOK_SECRET},
        )
    finally:
        reset_producer_pool()
    assert response.status_code == 200
    assert WebhookEvent.objects.get(id=response.json()["received"]).processed_at is None


def test_the_sweep_queues_events_that_never_reached_the_broker(
    project: Project, real_gateway: Gateway, celery_worker_process: Worker
) -> None:
    held = labeled(project, real_gateway)
    events = [webhook_event_receive(payload=webhook_body(a.id, project)) for a in held]  # never queued
    tasks.sweep_webhook_events.delay(0)
    assert queued() == 1
    celery_worker_process.start()
    wait_for(
        lambda: (
            not WebhookEvent.objects.filter(id__in=[e.id for e in events], processed_at__isnull=True).exists()
        ),
        120,
        "the swept events",
        celery_worker_process,
    )
    assert_equal_to_label_studio(project, held)
    celery_worker_process.assert_succeeded("process_webhook_event", len(held))


def test_the_reconcile_endpoint_answers_202_and_the_worker_reconciles(
    project: Project, real_gateway: Gateway, celery_worker_process: Worker
) -> None:
    held = labeled(project, real_gateway)
    client = factories.api_client(factories.user(Role.ADMIN))
    response = client.post(f"/api/projects/{project.id}/annotations/reconcile/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued" and response.json()["task_id"]
    assert queued() == 1
    celery_worker_process.start()
    wait_for(
        lambda: Annotation.objects.filter(project=project).count() == len(held),
        120,
        "reconciliation",
        celery_worker_process,
    )
    assert_equal_to_label_studio(project, held)


def test_the_beat_task_reconciles_every_project_in_the_worker(
    project: Project, real_gateway: Gateway, celery_worker_process: Worker
) -> None:
    held = labeled(project, real_gateway)
    tasks.reconcile_all_projects.delay()
    assert queued() == 1
    celery_worker_process.start()
    wait_for(
        lambda: Annotation.objects.filter(project=project).count() == len(held),
        120,
        "reconciliation",
        celery_worker_process,
    )
    celery_worker_process.assert_succeeded("reconcile_all_projects", 1)
    assert_equal_to_label_studio(project, held)


def test_a_401_from_label_studio_is_recorded_not_retried_by_the_worker(
    project: Project,
    real_gateway: Gateway,
    celery_worker_process: Worker,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    (first, *_) = labeled(project, real_gateway)
    celery_worker_process._env["LABEL_STUDIO_API_KEY"] = "0" * 40  # a token Label Studio refuses
    event = webhook_event_receive(payload=webhook_body(first.id, project))
    tasks.process_webhook_event.delay(event.id)
    celery_worker_process.start()
    wait_for(
        lambda: WebhookEvent.objects.filter(id=event.id, processed_at__isnull=False).exists(),
        90,
        "the event to end",
        celery_worker_process,
    )
    event.refresh_from_db()
    assert "401" in event.error and event.attempts == 1
    assert "retry" not in celery_worker_process.log().lower()
    assert not Annotation.objects.filter(project=project).exists()
    assert Item.objects.filter(project=project, ls_task_id__isnull=False).count() == 3


def test_a_task_whose_worker_process_dies_is_delivered_again(
    project: Project, celery_worker_process: Worker
) -> None:
    """Late acknowledgement and reject-on-worker-lost: the pool process is SIGKILLed while it is
    inside a task (held in a Label Studio read that this test answers only when told), and the
    same message is delivered again, with no sweep involved."""
    import json
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    reads: list[str] = []
    release = threading.Event()

    class HangingLabelStudio(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            reads.append(self.path)
            if len(reads) == 1:
                release.wait(timeout=120)  # the first read never gets its answer in time
            body = json.dumps({"detail": "Not found."}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), HangingLabelStudio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        celery_worker_process._env["LABEL_STUDIO_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
        event = webhook_event_receive(payload=webhook_body(4242, project))
        tasks.process_webhook_event.delay(event.id)
        celery_worker_process.start()
        inside = "the task to be inside its Label Studio read"
        wait_for(lambda: len(reads) == 1, 90, inside, celery_worker_process)
        assert celery_worker_process.process is not None
        children = subprocess.run(
            ["pgrep", "-P", str(celery_worker_process.process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)
        wait_for(lambda: len(reads) >= 2, 90, "the message to be delivered again", celery_worker_process)
        wait_for(
            lambda: WebhookEvent.objects.filter(id=event.id, processed_at__isnull=False).exists(),
            90,
            "the event to end",
            celery_worker_process,
        )
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    event.refresh_from_db()
    assert (event.attempts, event.error) == (2, "")  # Label Studio said 404: nothing to store
    assert "WorkerLostError" in celery_worker_process.log()
