"""Webhooks from the real Label Studio: what arrives, with which headers, and when not.

The payloads in ``tests/data/ls_webhooks/`` are real ones captured by this test (secrets
replaced by "REDACTED"); the Django webhook handler is tested against them. This test checks that
the server still sends the same shape, and rewrites the files when run with
``--update-ls-webhooks``.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.labelstudio.test_gateway_contract import LABEL_CONFIG, PASSWORD, choice
from workbench.labelstudio.gateway import WEBHOOK_SECRET_HEADER, SdkGateway
from workbench.labelstudio.server import ServerInfo

pytestmark = pytest.mark.label_studio

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "ls_webhooks"
SECRET = "webhook-secret-for-tests"
# Keys whose values are credentials wherever they appear in a payload.
SECRET_KEYS = frozenset({"token", "task_data_password", "task_data_login"})


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[Delivery]]]:
    """A tiny HTTP server on 127.0.0.1 that records every POST: (its URL, the deliveries)."""
    deliveries: queue.Queue[Delivery] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            deliveries.put(Delivery(self.path, dict(self.headers.items()), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/label-studio", deliveries
    server.shutdown()
    server.server_close()


def test_annotation_webhooks_carry_the_secret_header_and_the_annotation(
    label_studio: ServerInfo,
    receiver: tuple[str, queue.Queue[Delivery]],
    request: pytest.FixtureRequest,
) -> None:
    url, deliveries = receiver
    gateway = SdkGateway(label_studio.url, label_studio.token)
    project_id = gateway.create_project(
        title=f"webhooks-{uuid.uuid4().hex[:12]}", label_config=LABEL_CONFIG, maximum_annotations=1
    )
    try:
        received = _annotate_update_delete(gateway, project_id, url, deliveries)
    finally:
        gateway.delete_project(project_id=project_id)

    for action, delivery in received.items():
        assert delivery.path == "/hooks/label-studio"
        assert delivery.headers[WEBHOOK_SECRET_HEADER] == SECRET, action
        assert delivery.body["action"] == action
        assert delivery.body["project"]["id"] == project_id
    created = received["ANNOTATION_CREATED"].body
    assert created["annotation"]["result"] == choice("toxic")
    assert created["task"]["data"]["item_id"] == 0
    assert received["ANNOTATION_UPDATED"].body["annotation"]["result"] == choice("not_toxic")
    deleted = received["ANNOTATIONS_DELETED"].body
    assert [a["id"] for a in deleted["annotations"]] == [created["annotation"]["id"]]

    if request.config.getoption("update_ls_webhooks"):
        _save(received)
    for action, delivery in received.items():
        stored = json.loads((FIXTURES / f"{action}.json").read_text())
        assert _shape(redacted(delivery.body)) == _shape(stored), f"{action} payload changed shape"


def test_an_inactive_webhook_is_not_called(
    label_studio: ServerInfo, receiver: tuple[str, queue.Queue[Delivery]]
) -> None:
    url, deliveries = receiver
    gateway = SdkGateway(label_studio.url, label_studio.token)
    project_id = gateway.create_project(
        title=f"webhooks-{uuid.uuid4().hex[:12]}", label_config=LABEL_CONFIG, maximum_annotations=1
    )
    try:
        webhook_id = gateway.register_webhook(project_id=project_id, url=url, secret=SECRET)
        gateway.set_webhook_active(webhook_id=webhook_id, active=False)
        _label_one(gateway, project_id)
    finally:
        gateway.delete_project(project_id=project_id)
    assert deliveries.empty()


def _annotate_update_delete(
    gateway: SdkGateway, project_id: int, url: str, deliveries: queue.Queue[Delivery]
) -> dict[str, Delivery]:
    gateway.register_webhook(project_id=project_id, url=url, secret=SECRET)
    annotation_id = _label_one(gateway, project_id)
    # Label Studio calls webhooks inside the request that triggers them, so each delivery has
    # arrived by the time the call returns; the timeout only guards against a hang.
    received = {"ANNOTATION_CREATED": deliveries.get(timeout=10)}
    gateway.update_annotation(annotation_id=annotation_id, result=choice("not_toxic"))
    received["ANNOTATION_UPDATED"] = deliveries.get(timeout=10)
    gateway.delete_annotation(annotation_id=annotation_id)
    received["ANNOTATIONS_DELETED"] = deliveries.get(timeout=10)
    assert deliveries.empty()
    return received


def _label_one(gateway: SdkGateway, project_id: int) -> int:
    gateway.import_tasks(project_id=project_id, tasks=[{"text": "you are wonderful", "item_id": 0}])
    email = f"annotator-{uuid.uuid4().hex[:12]}@example.com"
    gateway.create_user(email=email, password=PASSWORD, first_name="Web", last_name="Hook")
    token = gateway.user_token(email=email, password=PASSWORD)
    task = gateway.next_task(project_id=project_id, user_token=token)
    assert task is not None
    return gateway.submit_annotation(
        task_id=task.id, result=choice("toxic"), lead_time=3.0, user_token=token
    ).id


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "REDACTED" if k in SECRET_KEYS and v else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def _shape(value: Any) -> Any:
    """The keys of a payload, recursively (first list item only): what a handler relies on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def _save(received: dict[str, Delivery]) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for action, delivery in received.items():
        text = json.dumps(redacted(delivery.body), indent=2, sort_keys=True)
        (FIXTURES / f"{action}.json").write_text(text + "\n")
    headers = {
        k: "REDACTED" if k == WEBHOOK_SECRET_HEADER else v
        for k, v in received["ANNOTATION_CREATED"].headers.items()
    }
    (FIXTURES / "headers.json").write_text(json.dumps(headers, indent=2, sort_keys=True) + "\n")


# --- forged payloads: a webhook is a notification, Label Studio is the truth ------------------


@pytest.mark.django_db(transaction=True)
def test_forged_payloads_store_nothing_forged_and_reconciliation_repairs_old_forged_rows(
    real_gateway: Any,
    settings: Any,
) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.test import APIClient

    from tests import factories
    from workbench.annotations.models import Annotation
    from workbench.annotations.services import annotations_reconcile
    from workbench.annotations.simulation import simulate, simulated_annotators
    from workbench.projects import kinds
    from workbench.projects.models import Item
    from workbench.projects.services import items_push, project_create

    settings.PUBLIC_URL = "http://127.0.0.1:9"  # Label Studio's own deliveries go nowhere
    project = project_create(name=f"forged {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        factories.toxicity_items(project, 4)
        items_push(project=project, limit=3)
        (unpushed,) = Item.objects.filter(project=project, ls_task_id__isnull=True)
        simulate(project=project, annotators=simulated_annotators(1, [0.0]))
        held = {a.id: a for a in real_gateway.iter_annotations(project_id=project.ls_project_id)}
        interface = kinds.interface(project.kind)

        def truth() -> dict[int, tuple[int, int, Any, Any]]:
            return {
                a.id: (a.task_data["item_id"], a.completed_by, interface.label_from(a.result), a.updated_at)
                for a in held.values()
            }

        def stored() -> dict[int, tuple[int, int, Any, Any]]:
            return {
                a.ls_annotation_id: (a.item_id, a.ls_user_id, a.label, a.ls_updated_at)
                for a in Annotation.objects.filter(project=project)
            }

        client = APIClient()
        for ls in held.values():
            flipped = next(c for c in interface.spec.labels if c != interface.label_from(ls.result))
            forged_task = ls.task_id + 10_000
            body = {
                "action": "ANNOTATION_UPDATED",
                "annotation": {
                    "id": ls.id,
                    "task": forged_task,
                    "completed_by": ls.completed_by + 1,
                    "result": interface.result_for(flipped),
                    "updated_at": "2099-01-01T00:00:00Z",
                },
                "task": {"id": forged_task, "data": {"item_id": unpushed.id, "text": "forged"}},
                "project": {"id": project.ls_project_id},
            }
            response = client.post(
                "/webhooks/label-studio/",
                body,
                format="json",
                headers={WEBHOOK_SECRET_HEADER: settings.WEBHOOK_SECRET},
            )
            assert response.status_code == 200
        assert stored() == truth()  # what Label Studio says, not what the payloads said
        unpushed.refresh_from_db()
        assert unpushed.ls_task_id is None

        # Rows as the old code stored forged payloads: reconciliation must repair them although
        # their timestamps say they are newer than Label Studio's.
        first = min(held)
        Annotation.objects.filter(project=project, ls_annotation_id=first).update(
            label=next(c for c in interface.spec.labels if c != interface.label_from(held[first].result)),
            ls_user_id=held[first].completed_by + 1,
            ls_updated_at=timezone.now() + timedelta(days=365 * 70),
        )
        Item.objects.filter(id=unpushed.id).update(ls_task_id=max(a.task_id for a in held.values()) + 10_000)
        report = annotations_reconcile(project=project)
        assert (report.updated, report.task_ids_repaired) == (1, 1)
        assert stored() == truth()
        assert items_push(project=project) == 1
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)
