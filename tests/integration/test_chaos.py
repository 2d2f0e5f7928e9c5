"""Chaos: the real Label Studio, simulated annotators, a lossy proxy in front of the webhook
(drops, duplicates, delays), forged events sent with the leaked secret, and the Celery worker
SIGKILLed mid-batch and restarted. After the sweep and reconciliation every annotation here
equals Label Studio's (item, annotator, label), none lost, none duplicated, none forged.

Bounded: 30 items x 2 annotators = 60 annotations. Nothing waits on a clock: each step polls for
its condition under a generous bound. The figures are printed and recorded as test properties.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from django import db

from tests import factories
from tests.integration.worker import Worker, queued, wait_for
from workbench.annotations import tasks
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.simulation import ensure_simulated_accounts, simulate, simulated_annotators
from workbench.labelstudio.payloads import WEBHOOK_SECRET_HEADER
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import WEBHOOK_PATH, items_push, project_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]

ITEMS, UNPUSHED, ANNOTATORS, PER_ITEM = 30, 3, 3, 2


@dataclass
class ProxyFigures:
    delivered_by_label_studio: int = 0
    dropped: int = 0
    duplicated: int = 0
    delayed: int = 0
    forwarded: int = 0


@dataclass
class LossyProxy:
    """Between Label Studio and the workbench, on 127.0.0.1: drops a quarter of the deliveries,
    sends some twice, holds some back a little (well under Label Studio's 1 s timeout)."""

    target: str
    seed: int = 13
    figures: ProxyFigures = field(default_factory=ProxyFigures)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in {"content-type", WEBHOOK_SECRET_HEADER.lower()}
                }
                proxy.relay(self.path, body, headers)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def relay(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.figures.delivered_by_label_studio += 1
            draw = self._rng.random()
            delay = self._rng.uniform(0.05, 0.3) if self._rng.random() < 0.3 else 0.0
        if draw < 0.25:
            with self._lock:
                self.figures.dropped += 1
            return
        copies = 2 if draw > 0.85 else 1
        if delay:
            threading.Event().wait(delay)
        for _ in range(copies):
            httpx.post(self.target + path, content=body, headers=headers, timeout=10)
        with self._lock:
            self.figures.forwarded += copies
            self.figures.duplicated += copies - 1
            self.figures.delayed += bool(delay)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def proxy(live_server) -> Iterator[LossyProxy]:  # type: ignore[no-untyped-def]
    lossy = LossyProxy(target=str(live_server.url))
    yield lossy
    lossy.close()


@pytest.fixture
def project(proxy: LossyProxy, real_gateway: Gateway, settings) -> Iterator[Project]:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = proxy.url  # Label Studio's webhook goes through the proxy
    project = project_create(
        name=f"chaos {uuid.uuid4().hex[:8]}", kind="toxicity_binary", annotators_per_item=PER_ITEM
    )
    factories.toxicity_items(project, ITEMS + UNPUSHED)
    items_push(project=project, limit=ITEMS)
    yield project
    real_gateway.delete_project(project_id=project.ls_project_id)


def leaked_secret(real_gateway: Gateway, project: Project, email: str, password: str) -> str:
    """What any annotator reads in the Community edition: the webhook's headers."""
    from workbench.labelstudio import connection

    token = real_gateway.user_token(email=email, password=password)
    url, _ = connection.credentials()
    hooks = httpx.get(
        f"{url}/api/webhooks/",
        params={"project": project.ls_project_id},
        headers={"Authorization": f"Token {token}"},
    ).json()
    (hook,) = [h for h in hooks if h["project"] == project.ls_project_id]
    return str(hook["headers"][WEBHOOK_SECRET_HEADER])


def forge(live_url: str, secret: str, project: Project, real_gateway: Gateway) -> int:
    """Events an annotator could send with the secret: flipped labels, another annotator, a date
    in 2099, another task id binding an unpushed item, deletions of real annotations, ids that
    do not exist or cannot; returns how many were sent."""
    interface = kinds.interface(project.kind)
    held = list(real_gateway.iter_annotations(project_id=project.ls_project_id))
    unpushed = list(Item.objects.filter(project=project, ls_task_id__isnull=True))
    bodies: list[dict[str, Any]] = []
    for ls in held[:6]:
        label = interface.label_from(ls.result)
        flipped = next(c for c in interface.spec.labels if c != label)
        bodies.append(
            {
                "action": "ANNOTATION_UPDATED",
                "annotation": {
                    "id": ls.id,
                    "task": 999_999,
                    "completed_by": ls.completed_by + 1,
                    "result": interface.result_for(flipped),
                    "updated_at": "2099-01-01T00:00:00Z",
                },
                "task": {"id": 999_999, "data": {"item_id": unpushed[0].id, "text": "forged"}},
                "project": {"id": project.ls_project_id},
            }
        )
    bodies.append(
        {
            "action": "ANNOTATIONS_DELETED",
            "annotations": [{"id": ls.id} for ls in held[6:9]],
            "project": {"id": project.ls_project_id},
        }
    )
    for bad_id in (10**6, -1, 2**70):
        bodies.append(
            {
                "action": "ANNOTATION_CREATED",
                "annotation": {
                    "id": bad_id,
                    "task": 999_998,
                    "completed_by": 1,
                    "result": interface.result_for("toxic"),
                },
                "task": {"id": 999_998, "data": {"item_id": unpushed[1].id}},
                "project": {"id": project.ls_project_id},
            }
        )
    for body in bodies:
        response = httpx.post(
            live_url + WEBHOOK_PATH, json=body, headers={WEBHOOK_SECRET_HEADER: secret}, timeout=10
        )
        assert response.status_code == 200, response.text
    return len(bodies)


def compare(project: Project, real_gateway: Gateway) -> dict[str, int]:
    interface = kinds.interface(project.kind)
    held = {
        ls.id: (ls.task_data["item_id"], ls.completed_by, interface.label_from(ls.result))
        for ls in real_gateway.iter_annotations(project_id=project.ls_project_id)
        if not ls.was_cancelled
    }
    rows = list(Annotation.objects.filter(project=project, was_cancelled=False))
    ours = {a.ls_annotation_id: (a.item_id, a.ls_user_id, a.label) for a in rows}
    # An (item, annotator) pair here more often than in Label Studio is a duplicate.
    per_pair = Counter((a.item_id, a.ls_user_id) for a in rows)
    per_pair.subtract(Counter((item_id, user) for item_id, user, _ in held.values()))
    return {
        "in_label_studio": len(held),
        "here": len(rows),
        "lost": len(held.keys() - ours.keys()),
        "extra": len(ours.keys() - held.keys()),
        "duplicated": sum(n for n in per_pair.values() if n > 0),
        "differing": sum(ours[k] != v for k, v in held.items() if k in ours),
    }


def test_chaos_nothing_lost_duplicated_or_forged(
    project: Project,
    proxy: LossyProxy,
    real_gateway: Gateway,
    celery_worker_process: Worker,
    live_server,  # type: ignore[no-untyped-def]
    record_property,  # type: ignore[no-untyped-def]
) -> None:
    annotators = simulated_annotators(ANNOTATORS, [0.2])
    ensure_simulated_accounts(project, annotators)
    from workbench.accounts.services import simulated_annotator_password

    secret = leaked_secret(
        real_gateway, project, annotators[0].email, simulated_annotator_password(annotators[0].email)
    )
    celery_worker_process.start()

    labeling: list[BaseException] = []

    def label() -> None:
        try:
            simulate(project=project, annotators=annotators, seed=7)
        except BaseException as exc:  # reported by the main thread
            labeling.append(exc)
        finally:
            db.connections.close_all()

    labeler = threading.Thread(target=label)
    labeler.start()
    # Kill the worker once it is busy with the stream of events, mid-batch.
    wait_for(
        lambda: (
            WebhookEvent.objects.filter(processed_at__isnull=False).count() >= 8 or not labeler.is_alive()
        ),
        240,
        "the worker to process some events",
        celery_worker_process,
    )
    celery_worker_process.kill()
    forged = forge(str(live_server.url), secret, project, real_gateway)
    labeler.join(timeout=300)
    assert not labeler.is_alive() and not labeling, labeling
    forged += forge(str(live_server.url), secret, project, real_gateway)

    celery_worker_process.start()  # restarted; what died with the old one is left to the sweep
    unprocessed_at_restart = WebhookEvent.objects.filter(processed_at__isnull=True).count()

    def swept() -> bool:
        if not WebhookEvent.objects.filter(processed_at__isnull=True).exists():
            return True
        if queued() == 0:
            tasks.sweep_webhook_events.delay(0)
        return False

    wait_for(swept, 300, "every stored event to be processed", celery_worker_process)
    before = compare(project, real_gateway)
    failed = list(WebhookEvent.objects.exclude(error="").values_list("error", flat=True))

    tasks.reconcile_project.delay(project.id)
    wait_for(
        lambda: celery_worker_process.succeeded("reconcile_project") >= 1,
        180,
        "reconciliation",
        celery_worker_process,
    )
    after = compare(project, real_gateway)

    figures = {
        **proxy.figures.__dict__,
        "forged_sent": forged,
        "events_stored": WebhookEvent.objects.count(),
        "unprocessed_when_worker_restarted": unprocessed_at_restart,
        "worker_starts": celery_worker_process.starts,
        "events_failed": len(failed),
        "before_reconcile": before,
        "after_reconcile": after,
    }
    print("chaos figures:", json.dumps(figures, indent=1))
    record_property("chaos", json.dumps(figures))

    assert proxy.figures.dropped > 0 and proxy.figures.duplicated > 0
    # Label Studio may hand a task to a third annotator when they ask at the same moment.
    assert after["in_label_studio"] >= ITEMS * PER_ITEM
    assert (after["lost"], after["extra"], after["duplicated"], after["differing"]) == (0, 0, 0, 0), figures
    # Nothing forged got in even before reconciliation ran: webhooks only made the workbench re-read.
    assert (before["extra"], before["duplicated"], before["differing"]) == (0, 0, 0), figures
    # The forged task id bound nothing: the unpushed items are still to push, and push sends them.
    assert Item.objects.filter(project=project, ls_task_id__isnull=True).count() == UNPUSHED
    # The impossible ids ended failed with their reason, never stuck.
    assert sum("annotation.id must lie in" in e for e in failed) == 4, failed
