"""Builders shared by the vote-policy tests: annotations stored as sync stores them, and every
consumer's reading of an item's label (dashboard, label issues, training, release)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.annotations.models import Annotation
from workbench.projects.models import Item, Project
from workbench.quality import analysis
from workbench.quality.ratings import project_ratings
from workbench.quality.services.compute import _features
from workbench.releases.records import FilterPolicy, release_records
from workbench.rounds.snapshot import snapshot_take

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ls_ids = itertools.count(500_000)


def vote(
    item: Item,
    ls_user_id: int,
    label: Any,
    *,
    minutes: int = 0,
    created_minutes: int | None = None,
    cancelled: bool = False,
    ls_annotation_id: int | None = None,
) -> Annotation:
    """Store one Label Studio annotation (a new one each call: a re-answer, e.g. on a review task)."""
    updated = T0 + timedelta(minutes=minutes)
    created = T0 + timedelta(minutes=minutes if created_minutes is None else created_minutes)
    return Annotation.objects.create(
        project=item.project,
        item=item,
        ls_annotation_id=ls_annotation_id if ls_annotation_id is not None else next(_ls_ids),
        ls_user_id=ls_user_id,
        label=None if cancelled else label,
        was_cancelled=cancelled,
        ls_created_at=created,
        ls_updated_at=updated,
        source=Annotation.Source.WEBHOOK,
        synced_at=updated,
    )


def dashboard_and_issue_labels(project: Project) -> tuple[dict[int, Any], dict[int, Any]]:
    """Per item id: the dashboard's majority-vote consensus and the label label issues are
    judged on, from one quality analysis (as ``quality_compute`` runs it)."""
    ratings = project_ratings(project)
    if ratings is None:
        return {}, {}
    result = analysis.analyse(
        ratings,
        features=_features(project),
        gold={},
        method="majority_vote",
        gold_threshold=0.7,
        gold_min_answers=10,
        seed=0,
    )
    dashboard = {i: row["label"] for i, row in zip(ratings.item_ids, result.consensus, strict=True)}
    return dashboard, dict(zip(ratings.item_ids, result.issue_labels, strict=True))


def training_targets(project: Project) -> dict[int, Any]:
    snap = snapshot_take(project=project, validation_percent=0)
    return {snap.item_ids[p]: t for p, t in zip(snap.train, snap.train_targets, strict=True)}


def release_labels(project: Project, method: str = "majority_vote") -> dict[int, Any]:
    policy = FilterPolicy(consensus_method=method, exclude_open_label_issues=False)
    records = release_records(project=project, salt="s" * 32, policy=policy, excluded=Counter())
    return {r.item_id: r.labels if hasattr(r, "labels") else r.label for r in records}
