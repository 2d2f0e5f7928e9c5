from __future__ import annotations

import random

import pytest

from tests import factories
from tests.quality.helpers import annotate, annotators, other, separable_items
from workbench.errors import Conflict
from workbench.quality.models import AnnotatorQuality, GoldItem, ItemConsensus, LabelChange, LabelIssue
from workbench.quality.services import (
    label_issue_send_to_review,
    quality_compute,
    quality_settings_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeled(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=3)
    items = separable_items(project, 60)
    users = annotators(3)
    quality_settings_update(project=project, gold_rate=0.5, gold_min_answers=10)
    gold_ids = set(GoldItem.objects.filter(project=project).values_list("item_id", flat=True))
    # Flips go into ordinary items, so gold answers stay true.
    flipped = {i.id for i in items if i.id not in gold_ids}
    flipped = set(sorted(flipped)[3::7][:4])
    annotate(project, items, users, [0.0, 0.1, 0.4], flipped=flipped, seed=1)
    return project, items, users, flipped


def test_it_computes_agreement_with_intervals_pairs_and_a_weekly_trend(labeled) -> None:  # type: ignore[no-untyped-def]
    project, items, users, _ = labeled
    run = quality_compute(project=project)
    assert run.status == "done", run.error
    stats = run.summary["statistics"]
    for name in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha"):
        value = stats[name]
        assert value["ci_low"] <= value["value"] <= value["ci_high"]
    assert 0.2 < stats["fleiss_kappa"]["value"] < 0.9
    assert len(run.summary["pairs"]) == 3
    assert [p["period"] for p in run.summary["trend"]] == [
        "2026-W10",
        "2026-W11",
        "2026-W12",
        "2026-W13",
        "2026-W14",
        "2026-W15",
    ]


def test_the_careless_annotator_is_flagged_and_the_careful_ones_are_not(labeled) -> None:  # type: ignore[no-untyped-def]
    project, _, users, _ = labeled
    quality_compute(project=project)
    rows = {a.annotator_id: a for a in AnnotatorQuality.objects.filter(project=project)}
    careful, ok, careless = (rows[u.id] for u in users)
    assert careless.flagged and not careful.flagged and not ok.flagged
    assert careless.gold_accuracy < 0.8 <= careful.gold_accuracy
    assert careless.crowdlab_quality < careful.crowdlab_quality
    assert careless.agreement < 0.7
    assert 5 <= careful.median_lead_time <= 15
    assert any("gold" in f for f in careless.flags)


def test_injected_flips_are_found_as_label_issues_with_scores(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    """cleanlab on 60 items finds most, not always all, consistent flips: measure recall over
    several fixed placements of 4 flips, and check that what it flags is scored as suspect."""
    found = injected = 0
    for placement in range(6):
        project = factories.project(annotators_per_item=3)
        items = separable_items(project, 60)
        rng = random.Random(placement)
        flipped = {item.id for item in rng.sample(items, 4)}
        annotate(project, items, annotators(3), [0.0, 0.1, 0.4], flipped=flipped, seed=placement)
        quality_compute(project=project)
        issues = {i.item_id: i for i in LabelIssue.objects.filter(project=project)}
        assert len(issues) <= len(flipped) + 4, issues
        assert all(i.status == "open" and 0 <= i.score < 0.5 for i in issues.values())
        found += len(flipped & set(issues))
        injected += len(flipped)
        assert ItemConsensus.objects.filter(project=project).count() == 60
    assert found / injected >= 0.6, f"found {found} of {injected} injected flips"


def test_a_review_relabels_the_item_and_leaves_an_audit_trail(labeled, fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project, items, users, flipped = labeled
    quality_compute(project=project)
    # The first injected flip that was flagged: which items are gold (so which get flipped)
    # follows the project id, and on PostgreSQL ids depend on the tests that ran before.
    item_id = min(
        LabelIssue.objects.filter(project=project, item_id__in=flipped).values_list("item_id", flat=True)
    )
    issue = LabelIssue.objects.get(project=project, item_id=item_id)
    admin = factories.user(factories.Role.ADMIN)
    before = ItemConsensus.objects.get(item_id=item_id).majority_label

    issue = label_issue_send_to_review(issue=issue, user=admin)

    assert issue.status == "in_review" and issue.review_ls_task_id is not None
    task = fake_gateway.tasks[issue.review_ls_task_id]
    assert task.data["item_id"] == item_id and task.data["review_of_issue"] == issue.id
    with pytest.raises(Conflict):
        label_issue_send_to_review(issue=issue, user=admin)
    # The reviewers answer correctly this time.
    item = next(i for i in items if i.id == item_id)
    from datetime import timedelta

    from django.utils import timezone

    annotate(project, [item], users, [0.0, 0.0, 0.0], start=timezone.now() + timedelta(seconds=1))
    run = quality_compute(project=project)
    issue.refresh_from_db()
    after = ItemConsensus.objects.get(item_id=item_id).majority_label
    assert (before, after) == (other(item.gold), item.gold)
    assert issue.status == "relabeled" and issue.outcome_label == item.gold
    assert run.summary["consensus_changes"] >= 1
    trail = LabelChange.objects.filter(issue=issue).order_by("at", "id")
    kinds = [c.kind for c in trail]
    assert kinds.count("review_requested") == 1 and kinds.count("review_answer") == 3
    changed = trail.get(kind="consensus_changed", note__startswith="majority_vote")
    assert (changed.old_label, changed.new_label) == (before, after)
    assert trail.get(kind="review_requested").changed_by == admin
    assert {c.changed_by_id for c in trail.filter(kind="review_answer")} == {u.id for u in users}


def test_gold_items_follow_the_configured_rate(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    separable_items(project, 40)
    quality_settings_update(project=project, gold_rate=0.25)
    assert GoldItem.objects.filter(project=project).count() == 10
    quality_settings_update(project=project, gold_rate=0.1)  # lowering keeps the chosen ones
    assert GoldItem.objects.filter(project=project).count() == 10


def test_a_project_without_annotations_computes_an_empty_summary(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    separable_items(project, 5)
    run = quality_compute(project=project)
    assert run.status == "done" and run.summary["n_ratings"] == 0
