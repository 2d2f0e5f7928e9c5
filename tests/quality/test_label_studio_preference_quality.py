"""End to end against the real Label Studio on a preference project (issue 11: the quality run
crashed on every one): simulated annotators answer the pairs in Label Studio, reconciliation
mirrors the answers, and the quality run gives agreement, consensus and label issues."""

from __future__ import annotations

import uuid

import pytest

from tests.quality.preference import preference_records, swapped
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push, project_create
from workbench.quality.models import AnnotatorQuality, ItemConsensus, LabelIssue
from workbench.quality.services import quality_compute

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


def test_a_preference_project_gets_agreement_consensus_and_label_issues(
    real_gateway, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    project = project_create(
        name=f"preference quality e2e {uuid.uuid4().hex[:8]}", kind="preference", annotators_per_item=3
    )
    items_import_records(project=project, records=preference_records(60))
    items = list(Item.objects.filter(project=project).order_by("id"))
    flipped = [items[n] for n in (4, 17, 30, 43)]  # everybody will pick the worse response on these
    for item in flipped:
        Item.objects.filter(id=item.id).update(gold=swapped(str(item.gold)))
    items_push(project=project)
    annotators = simulated_annotators(3, [0.0, 0.1, 0.2])
    assert simulate(project=project, annotators=annotators, seed=7).total == 180
    annotations_reconcile(project=project)

    run = quality_compute(project=project)

    assert run.status == "done", run.error
    statistics = run.summary["statistics"]
    assert statistics["krippendorff_alpha"]["value"] is not None
    assert statistics["percent_agreement"]["value"] > 0.6
    assert run.summary["n_items"] == 60 and run.summary["n_annotators"] == 3
    assert run.summary["issues"]["skipped"] is None
    consensus = dict(ItemConsensus.objects.filter(project=project).values_list("item_id", "majority_label"))
    assert len(consensus) == 60 and set(consensus.values()) <= {"A", "B", "tie"}
    assert consensus[items[0].id] == items[0].gold
    assert AnnotatorQuality.objects.filter(project=project).count() == 3
    found = set(LabelIssue.objects.filter(project=project).values_list("item_id", flat=True))
    assert len(found & {i.id for i in flipped}) >= 2, (found, [i.id for i in flipped])
