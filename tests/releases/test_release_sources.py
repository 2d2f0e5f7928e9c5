"""Service tests: a release takes its consensus and label issues from the quality app and its
source state from the rounds app."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tests.releases.conftest import annotate
from tests.releases.test_release_services import create_and_build, folder, label_all, rows
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records
from workbench.quality.models import ItemConsensus, LabelIssue, QualityRun
from workbench.quality.services import quality_compute, quality_settings_update
from workbench.releases.records import FilterPolicy
from workbench.rounds.models import Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=2)
    factories.toxicity_items(project, 12)
    return project


def other(label: str) -> str:
    return "non-toxic" if label == "toxic" else "toxic"


def quality_run(project: Project) -> QualityRun:
    return QualityRun.objects.create(
        project=project, status=QualityRun.Status.DONE, finished_at=timezone.now()
    )


def stored(item: Item, *, crowdlab: Any, quality: float, n: int = 2) -> ItemConsensus:
    """A consensus row as a quality run stores it (majority as the annotators said)."""
    return ItemConsensus.objects.create(
        project=item.project,
        item=item,
        label=crowdlab,
        quality=quality,
        method="crowdlab",
        majority_label=item.gold,
        majority_quality=1.0,
        crowdlab_label=crowdlab,
        crowdlab_quality=quality,
        n_annotations=n,
    )


def test_the_stored_crowdlab_consensus_is_used_and_uncovered_items_fall_back_to_majority(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=6)
    run = quality_run(project)
    stored(items[0], crowdlab=other(items[0].gold), quality=0.55)  # CROWDLAB overrules the annotators
    stored(items[1], crowdlab=items[1].gold, quality=0.9)
    stored(items[2], crowdlab=other(items[2].gold), quality=0.4, n=1)  # answers came in since the run
    # items[3:6]: not covered by the run.

    release = create_and_build(project)  # no method named: the project's setting (crowdlab)

    policy = release.filter_policy
    assert (policy["consensus_method"], policy["quality_run"]) == ("crowdlab", run.id)
    assert f"quality run {run.id}" in policy["consensus_source"]
    assert "live majority_vote" in policy["consensus_source"]
    assert release.manifest["release"]["filter_policy"] == policy
    frame = rows(release).set_index("item_id")
    assert frame.loc[items[0].id, "label"] == other(items[0].gold)
    assert frame.loc[items[0].id, "quality"] == pytest.approx(0.55)
    assert frame.loc[items[0].id, "soft_label"][items[0].gold] == pytest.approx(1.0)  # still the votes
    assert frame.loc[items[1].id, "quality"] == pytest.approx(0.9)
    for item in items[2:]:
        assert frame.loc[item.id, "label"] == item.gold
        assert frame.loc[item.id, "quality"] == pytest.approx(1.0)


def test_without_a_quality_run_every_item_gets_the_live_majority_vote(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=4)

    release = create_and_build(project)

    policy = release.filter_policy
    assert (policy["consensus_method"], policy["quality_run"]) == ("crowdlab", None)
    assert policy["consensus_source"] == "no quality run yet: live majority_vote for every item"
    assert policy["label_issues_applied"] is False
    assert list(rows(release)["label"]) == [i.gold for i in items]


def test_the_project_quality_setting_picks_the_default_method_and_a_request_overrides_it(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=2)
    quality_run(project)
    stored(items[0], crowdlab=other(items[0].gold), quality=0.6)
    quality_settings_update(project=project, consensus_method="majority_vote")

    by_setting = create_and_build(project)
    named = create_and_build(project, policy=FilterPolicy(consensus_method="crowdlab"))

    assert by_setting.filter_policy["consensus_method"] == "majority_vote"
    assert by_setting.filter_policy["consensus_source"] == "live majority_vote"
    assert rows(by_setting)["label"][0] == items[0].gold
    assert named.filter_policy["consensus_method"] == "crowdlab"
    assert rows(named)["label"][0] == other(items[0].gold)


def test_min_quality_applies_to_the_stored_consensus_quality_score(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=3)  # unanimous: majority quality 1.0 for all
    quality_run(project)
    stored(items[0], crowdlab=items[0].gold, quality=0.3)
    stored(items[1], crowdlab=items[1].gold, quality=0.8)

    release = create_and_build(project, policy=FilterPolicy(min_quality=0.5))

    assert release.excluded == {"below_min_quality": 1, "unlabeled": 9}
    assert list(rows(release)["item_id"]) == [items[1].id, items[2].id]


def test_a_multilabel_release_reads_stored_label_sets(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("toxicity_multilabel")
    items_import_records(project=project, records=[{"text": "one"}, {"text": "two"}])
    first, second = Item.objects.filter(project=project).order_by("id")
    for item in (first, second):
        annotate(item, 11, ["toxic"])
    quality_run(project)
    stored(first, crowdlab=["insult", "toxic"], quality=0.7, n=1)

    release = create_and_build(project)

    frame = rows(release)
    assert [list(labels) for labels in frame["labels"]] == [["toxic", "insult"], ["toxic"]]


def test_items_with_an_open_or_in_review_label_issue_are_excluded_under_their_own_reason(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=6)
    run = quality_run(project)
    for item, status in zip(items, ["open", "in_review", "confirmed", "relabeled", "gone"], strict=False):
        LabelIssue.objects.create(project=project, item=item, status=status, score=0.1, last_seen_run=run)

    release = create_and_build(project)
    kept_in = create_and_build(project, policy=FilterPolicy(exclude_open_label_issues=False))

    assert release.filter_policy["label_issues_applied"] is True
    assert release.excluded == {"open_label_issue": 2, "unlabeled": 6}
    assert list(rows(release)["item_id"]) == [i.id for i in items[2:]]
    datasheet = (folder(release) / "DATASHEET.md").read_text()
    assert f"label issue (quality run {run.id}) left out: 2" in datasheet
    assert kept_in.filter_policy["label_issues_applied"] is False
    assert kept_in.record_count == 6 and kept_in.excluded == {"unlabeled": 6}


def test_a_release_records_the_last_finished_round_and_its_model_version(project) -> None:  # type: ignore[no-untyped-def]
    label_all(project, last=2)

    def round_(number: int, status: str) -> Round:
        return Round.objects.create(
            project=project,
            number=number,
            status=status,
            trigger="api",
            strategy="margin",
            seed=number,
            model_version=f"workbench-round-{number}",
        )

    round_(1, "done")
    last_done = round_(2, "done")
    round_(3, "failed")
    round_(4, "running")

    release = create_and_build(project)

    assert (release.last_round_id, release.model_version) == (last_done.id, "workbench-round-2")
    assert release.manifest["release"]["source_state"]["last_round"] == last_done.id
    assert release.manifest["release"]["source_state"]["model_version"] == "workbench-round-2"


def test_a_real_quality_run_feeds_the_release(fake_gateway, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through quality_compute itself: labels are its stored CROWDLAB consensus, and the label
    issues it opens keep the injected flips out."""
    from tests.quality.helpers import annotate as annotate_all
    from tests.quality.helpers import annotators, separable_items

    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    project = factories.project(annotators_per_item=3)
    items = separable_items(project, 40)
    flipped = {items[5].id, items[17].id, items[29].id}
    annotate_all(project, items, annotators(3), [0.0, 0.1, 0.3], flipped=flipped, seed=2)
    run = quality_compute(project=project)
    assert run.status == "done", run.error
    active = set(
        LabelIssue.objects.filter(project=project, status__in=["open", "in_review"]).values_list(
            "item_id", flat=True
        )
    )
    assert active and flipped <= active

    release = create_and_build(project)

    assert release.filter_policy["quality_run"] == run.id
    assert release.excluded == {"open_label_issue": len(active)}
    crowdlab = dict(ItemConsensus.objects.filter(project=project).values_list("item_id", "crowdlab_label"))
    frame = rows(release)
    assert set(frame["item_id"]) == {i.id for i in items} - active
    assert all(
        crowdlab[item_id] == label for item_id, label in zip(frame["item_id"], frame["label"], strict=True)
    )
