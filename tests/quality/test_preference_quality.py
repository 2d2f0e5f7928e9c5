"""Quality on a preference project (fast: fake gateway, hashed features): the pair's three
texts become one feature row, so agreement, consensus and label issues are computed."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command

from tests import factories
from tests.quality.preference import preference_records, swapped
from tests.workbench.vote_histories import vote
from workbench.projects.models import Item
from workbench.projects.services import items_import_records
from workbench.quality.models import ItemConsensus, LabelIssue, QualityRun

pytestmark = pytest.mark.django_db


def test_compute_quality_on_a_preference_project_gives_agreement_consensus_and_label_issues(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference", annotators_per_item=3)
    items_import_records(project=project, records=preference_records(60))
    items = list(Item.objects.filter(project=project).order_by("id"))
    flipped = {items[n].id for n in (4, 17, 30, 43)}  # everybody picks the worse response
    rng = random.Random(3)
    for n, item in enumerate(items):
        for user, error in ((11, 0.0), (12, 0.1), (13, 0.2)):
            label = item.gold if rng.random() >= error else swapped(str(item.gold))
            vote(item, user, swapped(str(item.gold)) if item.id in flipped else label, minutes=n)

    out = StringIO()
    call_command("compute_quality", str(project.id), stdout=out)

    run = QualityRun.objects.filter(project=project).latest("id")
    assert run.status == "done", run.error
    assert "done; 60 items" in out.getvalue()
    alpha = run.summary["statistics"]["krippendorff_alpha"]["value"]
    assert alpha is not None and alpha > 0.5
    assert run.summary["issues"]["skipped"] is None
    assert ItemConsensus.objects.filter(project=project).count() == 60
    assert ItemConsensus.objects.get(item=items[0]).majority_label == "A"
    found = set(LabelIssue.objects.filter(project=project).values_list("item_id", flat=True))
    assert len(found & flipped) >= 2, (found, flipped)
