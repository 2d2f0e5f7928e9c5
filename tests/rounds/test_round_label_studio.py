"""End to end against the real Label Studio: after a round, the first tasks a simulated annotator
receives from the real queue (/next) are the round's highest-priority items, in order."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection

from tests.integration.test_label_studio_round_trip import jigsaw_rows
from workbench.accounts.services import simulated_annotator_password
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import ensure_simulated_accounts, simulated_annotators
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import, project_create
from workbench.rounds.labels import in_validation_slice
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_start

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workbench_url(live_server, settings) -> str:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    return str(live_server.url)


def label_from_queue(gateway: Gateway, project: Project, email: str, n: int) -> list[int]:
    """Take n tasks from the real queue as this annotator, answering with the gold label; the
    item ids in the order Label Studio served them."""
    token = gateway.user_token(email=email, password=simulated_annotator_password(email))
    interface = kinds.interface(project.kind)
    served = []
    for _ in range(n):
        task = gateway.next_task(project_id=project.ls_project_id, user_token=token)
        if task is None:
            break
        item = Item.objects.get(id=task.data["item_id"])
        served.append(item.id)
        gateway.submit_annotation(
            task_id=task.id, result=interface.result_for(item.gold), lead_time=2.0, user_token=token
        )
    return served


def finished_auto_round(project: Project, timeout: float = 120.0) -> Round | None:
    """The automatic round, once done or failed: started by a webhook, it runs in the workbench's
    request thread and may still be running when the annotator's submit returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        auto = Round.objects.filter(project=project, trigger="auto").first()
        if auto is None or auto.status in ("done", "failed"):
            return auto
        time.sleep(0.5)
    return Round.objects.filter(project=project, trigger="auto").first()


def batch_of(round_: Round) -> list[int]:
    return list(round_.selections.order_by("rank").values_list("item_id", flat=True))


def test_the_real_queue_serves_each_rounds_batch_first_in_order(
    real_gateway: Gateway, workbench_url: str
) -> None:
    project = project_create(name=f"test rounds {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        items_import(
            project=project,
            source="jigsaw_toxic_sample.csv",
            content=jigsaw_rows(60),
            columns={"text": "comment_text", "external_id": "id"},
        )
        round_config_update(project=project, validation_percent=20)
        first, second = simulated_annotators(2, [0.0])
        ensure_simulated_accounts(project, [first, second])

        # Cold start: nothing labeled, nothing in Label Studio yet.
        round1 = round_start(
            project=project, trigger="command", strategy="seed_keyword", batch_size=8, buffer_size=8, seed=1
        )
        round1.refresh_from_db()
        assert round1.status == "done", round1.error
        assert round1.pushed_count == 16 and round1.predicted_count == 16
        assert Item.objects.filter(project=project, ls_task_id__isnull=False).count() == 16
        assert label_from_queue(real_gateway, project, first.email, 8) == batch_of(round1)

        annotations_reconcile(project=project)  # in case a webhook was slow
        round2 = round_start(
            project=project, trigger="command", strategy="margin", batch_size=6, buffer_size=6, seed=2
        )
        round2.refresh_from_db()
        assert round2.status == "done", round2.error
        assert round2.training_size == 8
        assert label_from_queue(real_gateway, project, second.email, 6) == batch_of(round2)
        # Held-out items were never pushed, so never served.
        pushed = Item.objects.filter(project=project, ls_task_id__isnull=False)
        assert not any(in_validation_slice(i.content_hash, 20) for i in pushed)
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)


def test_every_n_new_annotations_start_a_round_that_the_queue_follows(
    real_gateway: Gateway, workbench_url: str
) -> None:
    project = project_create(name=f"test auto rounds {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        items_import(
            project=project,
            source="jigsaw_toxic_sample.csv",
            content=jigsaw_rows(30),
            columns={"text": "comment_text", "external_id": "id"},
        )
        round_config_update(
            project=project,
            auto_round_every=4,
            strategy="margin",
            batch_size=4,
            buffer_size=4,
            validation_percent=0,
        )
        (annotator,) = simulated_annotators(1, [0.0])
        ensure_simulated_accounts(project, [annotator])
        first = round_start(
            project=project, trigger="command", strategy="seed_keyword", batch_size=4, buffer_size=4
        )

        label_from_queue(real_gateway, project, annotator.email, 4)
        # Only webhooks may start it: no reconciliation runs here, and every annotation must
        # have come by webhook (on PostgreSQL; the in-memory SQLite test database refuses the
        # webhooks' concurrent writes).
        if connection.vendor != "postgresql":
            pytest.fail("This test needs PostgreSQL: run it with DATABASE_URL set (bin/test does).")
        deadline = time.monotonic() + 120
        while Annotation.objects.filter(project=project).count() < 4 and time.monotonic() < deadline:
            time.sleep(0.5)
        sources = list(Annotation.objects.filter(project=project).values_list("source", flat=True))
        assert sources == ["webhook"] * 4, sources

        auto = finished_auto_round(project)
        assert auto is not None, list(
            Round.objects.filter(project=project).values("number", "status", "error")
        )
        assert (auto.number, auto.status, auto.training_size, auto.annotation_count) == (2, "done", 4, 4), (
            auto.error
        )
        assert auto.model_version != Round.objects.get(id=first.id).model_version
        # The queue now follows the automatic round.
        assert label_from_queue(real_gateway, project, annotator.email, 4) == batch_of(auto)
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)
