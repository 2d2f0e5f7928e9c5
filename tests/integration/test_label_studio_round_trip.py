"""End to end against the real Label Studio: items pushed as tasks, simulated annotators taking
them from the real queue, annotations coming back through webhooks and through reconciliation."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import, items_import_records, items_push, project_create

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workbench_url(live_server, settings) -> str:  # type: ignore[no-untyped-def]
    """Label Studio delivers webhooks to this test's live workbench."""
    settings.PUBLIC_URL = live_server.url
    return str(live_server.url)


def jigsaw_rows(n: int) -> bytes:
    with open(DATA / "jigsaw_toxic_sample.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        rows = [next(reader) for _ in range(n + 1)]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def hh_rlhf_records(n: int, seed: int = 0) -> list[dict[str, str]]:
    """Preference pairs with the chosen response shown as A or B at random; gold follows it."""
    rng = random.Random(seed)
    records = []
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            pair = json.loads(line)
            if pair["chosen_equals_rejected"] or not pair["prompts_match"]:
                continue
            chosen_first = rng.random() < 0.5
            a, b = pair["chosen_response"], pair["rejected_response"]
            records.append(
                {
                    "external_id": pair["pair_id"],
                    "prompt": pair["prompt"],
                    "response_a": a if chosen_first else b,
                    "response_b": b if chosen_first else a,
                    "label": "A" if chosen_first else "B",
                }
            )
            if len(records) == n:
                return records
    raise AssertionError("not enough pairs in the sample")


def new_project(kind: str, annotators_per_item: int) -> Project:
    return project_create(
        name=f"test {kind} {uuid.uuid4().hex[:8]}", kind=kind, annotators_per_item=annotators_per_item
    )


def assert_mirrors_label_studio(project: Project, gateway: Gateway) -> dict[int, Any]:
    """Every annotation Label Studio holds is here once, with the same label, item, annotator
    and lead time, and nothing else is."""
    held = {a.id: a for a in gateway.iter_annotations(project_id=project.ls_project_id)}
    ours = {
        a.ls_annotation_id: a for a in Annotation.objects.filter(project=project).select_related("annotator")
    }
    events = WebhookEvent.objects.filter(ls_project_id=project.ls_project_id)
    errors = list(events.exclude(error="").values_list("error", flat=True))
    assert ours.keys() == held.keys(), (
        f"missing here: {sorted(held.keys() - ours.keys())}, "
        f"extra here: {sorted(ours.keys() - held.keys())}; "
        f"{events.count()} webhook events received, errors: {errors}"
    )
    interface = kinds.interface(project.kind)
    for ls_id, ls in held.items():
        mine = ours[ls_id]
        # A preference answer is about the shown sides: mapped back with the item's recorded order.
        label = interface.label_from(ls.result, sides=mine.item.sides)
        assert ls.task_data.get("sides", "") == mine.item.sides
        assert mine.label == (list(label) if isinstance(label, tuple) else label)
        assert mine.item_id == ls.task_data["item_id"]
        assert mine.ls_user_id == ls.completed_by
        assert mine.annotator is not None and mine.annotator.account.ls_user_id == ls.completed_by
        assert mine.lead_time == pytest.approx(ls.lead_time)
    return ours


def test_three_annotators_label_200_jigsaw_items_and_every_annotation_arrives_by_webhook(
    real_gateway: Gateway, workbench_url: str
) -> None:
    project = new_project("toxicity_binary", annotators_per_item=3)
    report = items_import(
        project=project,
        source="jigsaw_toxic_sample.csv",
        content=jigsaw_rows(200),
        columns={"text": "comment_text", "external_id": "id"},
    )
    assert report.created == 200
    assert items_push(project=project) == 200

    annotators = simulated_annotators(3, [0.0, 0.1, 0.2])
    simulation = simulate(project=project, annotators=annotators, seed=1)

    assert simulation.total == 600
    assert all(simulation.submitted[a.email] == 200 for a in annotators)
    # Webhooks alone brought them in: no reconciliation ran.
    ours = assert_mirrors_label_studio(project, real_gateway)
    assert len(ours) == 600
    assert {a.source for a in ours.values()} == {"webhook"}
    per_item = Annotation.objects.filter(project=project).values_list("item_id", flat=True)
    assert sorted(set(per_item)) == sorted(Item.objects.filter(project=project).values_list("id", flat=True))
    assert all(list(per_item).count(i) == 3 for i in set(per_item))
    # The annotator who never errs gave exactly the gold labels; the others erred as often as simulated.
    for annotator in annotators:
        mine = Annotation.objects.filter(project=project, annotator__email=annotator.email).select_related(
            "item"
        )
        wrong = sum(a.label != a.item.gold for a in mine)
        assert wrong == simulation.wrong[annotator.email]
    assert simulation.wrong[annotators[0].email] == 0


def test_with_webhooks_off_reconciliation_alone_brings_in_every_annotation(
    real_gateway: Gateway, workbench_url: str
) -> None:
    project = new_project("toxicity_binary", annotators_per_item=2)
    items_import(
        project=project,
        source="jigsaw_toxic_sample.csv",
        content=jigsaw_rows(40),
        columns={"text": "comment_text", "external_id": "id"},
    )
    items_push(project=project)
    real_gateway.set_webhook_active(webhook_id=project.ls_webhook_id, active=False)

    simulation = simulate(project=project, annotators=simulated_annotators(2, [0.1]), seed=2)

    assert simulation.total == 80
    assert Annotation.objects.filter(project=project).count() == 0
    report = annotations_reconcile(project=project)
    assert (report.seen, report.created, report.deleted) == (80, 80, 0)
    ours = assert_mirrors_label_studio(project, real_gateway)
    assert {a.source for a in ours.values()} == {"reconcile"}

    # A change and a deletion made in Label Studio while no webhook told us reach us too.
    first, second = sorted(ours)[:2]
    flipped = "non-toxic" if ours[first].label == "toxic" else "toxic"
    real_gateway.update_annotation(
        annotation_id=first, result=kinds.interface(project.kind).result_for(flipped)
    )
    real_gateway.delete_annotation(annotation_id=second)
    report = annotations_reconcile(project=project)
    assert (report.updated, report.deleted) == (1, 1)
    assert Annotation.objects.get(project=project, ls_annotation_id=first).label == flipped
    assert_mirrors_label_studio(project, real_gateway)


def test_a_preference_project_round_trips_hh_rlhf_pairs(real_gateway: Gateway, workbench_url: str) -> None:
    project = new_project("preference", annotators_per_item=2)
    records = hh_rlhf_records(30)
    assert items_import_records(project=project, records=records).created == 30
    items_push(project=project)

    simulation = simulate(project=project, annotators=simulated_annotators(2, [0.0, 0.3]), seed=3)

    assert simulation.total == 60
    ours = assert_mirrors_label_studio(project, real_gateway)
    assert {a.source for a in ours.values()} == {"webhook"}
    assert {a.label for a in ours.values()} <= {"A", "B", "tie"}
    # Reconciliation after complete webhook delivery finds nothing to fix.
    report = annotations_reconcile(project=project)
    assert (report.seen, report.created, report.updated, report.deleted) == (60, 0, 0, 0), report
