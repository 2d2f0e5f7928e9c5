"""A graded preference project's release (service level, fake gateway): the consensus direction
from the vote policy, the consensus strength from the counted votes (newest answer per annotator
only), written as ``strength`` and TRL ``margin``; ties left out and counted."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.quality.preference import preference_records
from tests.releases.test_release_services import create_and_build, folder
from workbench.annotations.models import Annotation
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, project_create

pytestmark = pytest.mark.django_db
_ids = itertools.count(500_000)

# Per item position: each annotator's (label, strength); the last entry of a user wins.
VOTES = [
    [(11, "A", 3), (12, "A", 1), (13, "B", 1)],  # A, median(+3, +1, -1) = 1
    [(11, "B", 2), (12, "B", 3), (13, "B", 3)],  # B, median(-2, -3, -3) = 3 toward B
    [(11, "A", 2), (12, "B", 2), (13, "tie", 0)],  # split at the top: tie, left out
    [(11, "B", 3), (12, "A", 1), (11, "A", 2), (13, "A", 3)],  # 11 changed their answer: A, 2
]


def vote(item: Item, ls_user_id: int, label: str, strength: int, at: int) -> None:
    when = timezone.now() + timedelta(seconds=at)
    Annotation.objects.create(
        project=item.project,
        item=item,
        ls_annotation_id=next(_ids),
        ls_user_id=ls_user_id,
        label=label,
        strength=strength,
        ls_created_at=when,
        ls_updated_at=when,
        source=Annotation.Source.RECONCILE,
        synced_at=when,
    )


def test_a_graded_release_exports_margin_from_the_counted_votes(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = project_create(
        name="graded release", kind="preference", annotators_per_item=3, label_config="preference_graded.xml"
    )
    items_import_records(project=project, records=preference_records(len(VOTES)))
    items = list(Item.objects.filter(project=project).order_by("id"))
    for item, votes in zip(items, VOTES, strict=True):
        for at, (user, label, strength) in enumerate(votes):
            vote(item, user, label, strength, at)
    release = create_and_build(project, formats=["jsonl", "trl", "trl_conversational"])
    assert release.status == "published", release.error
    root = folder(release)
    records = {
        r["item_id"]: r
        for split in ("train", "validation", "test")
        for r in map(json.loads, (root / "jsonl" / f"{split}.jsonl").read_text().splitlines())
    }
    expected = {items[0].id: ("A", 1.0), items[1].id: ("B", 3.0), items[2].id: ("tie", None)}
    expected[items[3].id] = ("A", 2.0)
    assert {i: (r["label"], r["strength"]) for i, r in records.items()} == expected
    trl = [
        r
        for split in ("train", "validation", "test")
        for r in map(json.loads, (root / "trl" / f"{split}.jsonl").read_text().splitlines())
    ]
    by_prompt = {item.data["prompt"]: item.id for item in items}
    assert sorted((by_prompt[r["prompt"]], r["margin"]) for r in trl) == sorted(
        (i, s) for i, (label, s) in expected.items() if label != "tie"
    )
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["stats"]["trl"]["ties_excluded"] == 1
    assert manifest["stats"]["trl_conversational"]["margin"] is True


def test_an_ungraded_preference_release_has_no_margin(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = project_create(name="plain release", kind="preference", annotators_per_item=1)
    items_import_records(project=project, records=preference_records(4))
    for at, item in enumerate(Item.objects.filter(project=project)):
        when = timezone.now() + timedelta(seconds=at)
        Annotation.objects.create(
            project=project,
            item=item,
            ls_annotation_id=next(_ids),
            ls_user_id=21,
            label=item.gold,
            ls_created_at=when,
            ls_updated_at=when,
            source=Annotation.Source.RECONCILE,
            synced_at=when,
        )
    release = create_and_build(project, formats=["jsonl", "trl"])
    root = folder(release)
    rows = [
        json.loads(line)
        for split in ("train", "validation", "test")
        for line in (root / "trl" / f"{split}.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 4 and all(list(r) == ["prompt", "chosen", "rejected"] for r in rows)
