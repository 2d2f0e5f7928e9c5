"""One label per item for every reader: the quality dashboard, label issues, a release made with
the same method, and training (which abstains on ties by its named rule)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import factories
from tests.workbench.vote_histories import dashboard_and_issue_labels, release_labels, training_targets, vote
from workbench.projects.models import Item
from workbench.quality.models import ItemConsensus
from workbench.quality.services import quality_compute, quality_settings_update
from workbench.releases import services as releases
from workbench.releases.records import FilterPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cheap_features(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    settings.RELEASES_DIR = tmp_path / "releases"


def test_a_one_one_binary_item_has_one_label_on_the_dashboard_in_label_issues_and_in_a_release(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=2)
    factories.toxicity_items(project, 12)
    items = list(Item.objects.filter(project=project).order_by("id"))
    split, others = items[0], items[1:]
    vote(split, 11, "toxic")
    vote(split, 12, "non-toxic")
    # Everything else is non-toxic: a class-frequency "prior" tie-break would call the split
    # item non-toxic; the vote policy decides it from its own votes only.
    for item in others:
        vote(item, 11, "non-toxic")
        vote(item, 12, "non-toxic")
    quality_settings_update(project=project, consensus_method="majority_vote")

    run = quality_compute(project=project)
    assert run.status == "done", run.error
    stored = ItemConsensus.objects.get(item=split)
    dashboard, issue_input = dashboard_and_issue_labels(project)
    release = releases.release_create(
        project=project, created_by=None, policy=FilterPolicy(consensus_method="majority_vote")
    )
    releases.release_build(release_id=release.id)
    folder = releases.release_folder(release)
    rows = [
        json.loads(line)
        for split_name in ("train", "validation", "test")
        for line in (folder / "jsonl" / f"{split_name}.jsonl").read_text().splitlines()
    ]
    released = {row["item_id"]: row["label"] for row in rows}

    assert stored.label == stored.majority_label == "toxic"  # toward_toxic: the safety side
    assert dashboard[split.id] == issue_input[split.id] == released[split.id] == "toxic"
    assert release_labels(project)[split.id] == "toxic"
    assert split.id not in training_targets(project)  # training abstains on the tie, by name


def test_a_review_answer_replaces_the_reviewers_earlier_vote_in_training(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=3)
    factories.toxicity_items(project, 3)
    item = Item.objects.filter(project=project).order_by("id").first()
    assert item is not None
    vote(item, 11, "toxic", minutes=0)
    vote(item, 12, "toxic", minutes=1)
    vote(item, 13, "non-toxic", minutes=2)
    assert training_targets(project)[item.id] == 1.0
    # User 11 answers the review task (a new Label Studio annotation on the same item): counted
    # as a second vote this would be a 2-2 tie and no target; replacing 11's vote it is 1-2.
    vote(item, 11, "non-toxic", minutes=60)
    assert training_targets(project)[item.id] == 0.0
    dashboard, _ = dashboard_and_issue_labels(project)
    assert dashboard[item.id] == release_labels(project)[item.id] == "non-toxic"


def test_an_older_update_delivered_late_does_not_win(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=1)
    factories.toxicity_items(project, 2)
    item = Item.objects.filter(project=project).order_by("id").first()
    assert item is not None
    vote(item, 11, "toxic", minutes=30, ls_annotation_id=901)  # review answer, updated later
    vote(item, 11, "non-toxic", minutes=5, ls_annotation_id=950)  # stored after it, older in Label Studio
    assert release_labels(project)[item.id] == "toxic"
    assert training_targets(project)[item.id] == 1.0
