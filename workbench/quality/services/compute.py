"""Compute and store a project's label quality: agreement, consensus, annotator quality, gold
accuracy and label issues, and settle reviews whose answers have arrived."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from workbench.errors import ValidationFailed
from workbench.projects.models import Item, Project
from workbench.quality import analysis
from workbench.quality.features import item_features
from workbench.quality.models import AnnotatorQuality, GoldItem, ItemConsensus, LabelIssue, QualityRun
from workbench.quality.preference_audit import position_flag, preference_audit
from workbench.quality.ratings import ProjectRatings, project_ratings
from workbench.quality.services.gold import gold_items_select
from workbench.quality.services.review import reviews_settle
from workbench.quality.services.settings import quality_settings_check, quality_settings_get

log = logging.getLogger(__name__)


def quality_recompute_request(*, project: Project, trigger: str = "api") -> QualityRun:
    """Queue a computation (a Celery task once this transaction commits). A pending one that
    has not started yet is reused, so bursts of syncs cost one computation."""
    from workbench.quality import tasks

    quality_settings_check(project=project)
    with transaction.atomic():
        run = QualityRun.objects.filter(project=project, status=QualityRun.Status.PENDING).first()
        if run is None:
            run = QualityRun.objects.create(project=project, trigger=trigger)
            transaction.on_commit(lambda: tasks.compute_quality.delay(run.id))
    return run


def quality_run_execute(*, run_id: int) -> bool:
    """Run a pending computation; runs twice safely (only the first claims it). Returns whether
    this call ran it."""
    claimed = QualityRun.objects.filter(id=run_id, status=QualityRun.Status.PENDING).update(
        status=QualityRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return False
    run = QualityRun.objects.select_related("project").get(id=run_id)
    try:
        _compute(run)
    except Exception as exc:
        log.exception("quality run %s failed", run_id)
        QualityRun.objects.filter(id=run_id).update(
            status=QualityRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        raise
    return True


def quality_compute(*, project: Project, trigger: str = "api") -> QualityRun:
    """Compute now, in this process (commands, tests)."""
    run = QualityRun.objects.create(project=project, trigger=trigger)
    quality_run_execute(run_id=run.id)
    run.refresh_from_db()
    return run


def _features(project: Project) -> Any:
    def features(item_ids: list[int]) -> Any:
        data = dict(Item.objects.filter(project=project, id__in=item_ids).values_list("id", "data"))
        return item_features(project.kind, [data[i] for i in item_ids])

    return features


def _compute(run: QualityRun) -> None:
    project = run.project
    config = quality_settings_get(project=project)
    gold_count = gold_items_select(project=project)
    ratings = project_ratings(project)
    gold = dict(GoldItem.objects.filter(project=project).values_list("item_id", "item__gold"))
    if ratings is None:
        result = None
        summary: dict[str, Any] = {"n_items": 0, "n_ratings": 0}
    else:
        result = analysis.analyse(
            ratings,
            features=_features(project),
            gold=gold,
            method=config.consensus_method,
            gold_threshold=config.gold_threshold,
            gold_min_answers=config.gold_min_answers,
            seed=config.seed,
        )
        summary = result.summary
        if ratings.spec.sided:
            summary["preference_audit"] = preference_audit(ratings, consensus=result.consensus)
    summary["gold"] = {"n_gold_items": gold_count, "rate": config.gold_rate}
    with transaction.atomic():
        changed = 0
        if ratings is not None and result is not None:
            changed = _store_consensus(project, ratings, result)
            _store_annotators(project, ratings, result, config, summary.get("preference_audit"))
            _store_issues(project, ratings, result, run)
            reviews_settle(project=project, ratings=ratings)
        else:
            ItemConsensus.objects.filter(project=project).delete()
            AnnotatorQuality.objects.filter(project=project).delete()
        summary["consensus_changes"] = changed
        QualityRun.objects.filter(id=run.id).update(
            status=QualityRun.Status.DONE, finished_at=timezone.now(), summary=summary
        )


def _store_consensus(project: Project, ratings: ProjectRatings, result: analysis.Analysis) -> int:
    """Replace the consensus rows; a changed consensus or majority label goes into the audit
    trail. Returns how many items changed."""
    from workbench.quality.services.review import consensus_changed

    before = {
        item_id: (label, majority)
        for item_id, label, majority in ItemConsensus.objects.filter(project=project).values_list(
            "item_id", "label", "majority_label"
        )
    }
    ItemConsensus.objects.filter(project=project).delete()
    method = result.summary["consensus"]["method"]
    rows = []
    changed = 0
    for item_id, row in zip(ratings.item_ids, result.consensus, strict=True):
        rows.append(ItemConsensus(project=project, item_id=item_id, method=method, **row))
        if item_id not in before:
            continue
        old_label, old_majority = before[item_id]
        moved = False
        if old_label != row["label"]:
            consensus_changed(project=project, item_id=item_id, old=old_label, new=row["label"], what=method)
            moved = True
        if method != "majority_vote" and old_majority != row["majority_label"]:
            consensus_changed(
                project=project,
                item_id=item_id,
                old=old_majority,
                new=row["majority_label"],
                what="majority_vote",
            )
            moved = True
        changed += moved
    ItemConsensus.objects.bulk_create(rows, batch_size=1000)
    return changed


def _store_annotators(
    project: Project,
    ratings: ProjectRatings,
    result: analysis.Analysis,
    config: Any,
    audit: dict[str, Any] | None,
) -> None:
    users = get_user_model().objects
    valid_users = set(
        users.filter(id__in=[u for u in ratings.annotator_users.values() if u]).values_list("id", flat=True)
    )
    AnnotatorQuality.objects.filter(project=project).delete()
    position = {r["ls_user_id"]: position_flag(r) for r in (audit or {}).get("annotators", [])}
    rows = []
    for row in result.annotators:
        flags = []
        if (flag := position.get(row["ls_user_id"])) is not None:
            flags.append(flag)
        if row.pop("gold_flagged"):
            flags.append(f"gold accuracy below {config.gold_threshold:g}")
        if (
            row["agreement"] is not None
            and row["agreement_items"] >= config.agreement_min_items
            and row["agreement"] < config.agreement_threshold
        ):
            flags.append(f"agreement with consensus below {config.agreement_threshold:g}")
        row.pop("agreement_items")
        user_id = ratings.annotator_users.get(row["ls_user_id"])
        rows.append(
            AnnotatorQuality(
                project=project,
                annotator_id=user_id if user_id in valid_users else None,
                flagged=bool(flags),
                flags=flags,
                **row,
            )
        )
    AnnotatorQuality.objects.bulk_create(rows)


def _store_issues(
    project: Project, ratings: ProjectRatings, result: analysis.Analysis, run: QualityRun
) -> None:
    """Open an issue for each newly flagged item, refresh the ones still flagged, and close
    open ones no longer flagged. An item whose review confirmed this very label is not flagged
    again for it."""
    active = {
        i.item_id: i for i in LabelIssue.objects.filter(project=project, status__in=["open", "in_review"])
    }
    reviewed = {
        (item_id, repr(label))
        for item_id, label in LabelIssue.objects.filter(
            project=project, status__in=[LabelIssue.Status.CONFIRMED, LabelIssue.Status.RELABELED]
        ).values_list("item_id", "outcome_label")
    }
    flagged = set()
    seen, changed, new = [], [], []
    item_ids = ratings.item_ids
    for pos, score, given, suggested in result.issues:
        item_id = item_ids[pos]
        flagged.add(item_id)
        issue = active.get(item_id)
        if issue is not None:
            before = (issue.score, issue.suggested_label, issue.given_label)
            issue.score, issue.suggested_label = score, suggested
            if issue.status == LabelIssue.Status.OPEN:
                issue.given_label = given
            if (issue.score, issue.suggested_label, issue.given_label) != before:
                changed.append(issue)
            seen.append(issue.id)
        elif (item_id, repr(given)) not in reviewed:
            new.append(
                LabelIssue(
                    project=project,
                    item_id=item_id,
                    score=score,
                    given_label=given,
                    suggested_label=suggested,
                    last_seen_run=run,
                )
            )
    # In bulk: a run on a large project flags thousands of items, and a recompute mostly finds
    # the same ones with the same scores (one UPDATE marks them seen; only changes are written).
    for start in range(0, len(seen), 5000):
        LabelIssue.objects.filter(id__in=seen[start : start + 5000]).update(last_seen_run=run)
    fields = ["score", "suggested_label", "given_label"]
    LabelIssue.objects.bulk_update(changed, fields, batch_size=1000)
    LabelIssue.objects.bulk_create(new, batch_size=1000)
    gone = [
        i.id for item_id, i in active.items() if item_id not in flagged and i.status == LabelIssue.Status.OPEN
    ]
    LabelIssue.objects.filter(id__in=gone).update(status=LabelIssue.Status.GONE, resolved_at=timezone.now())


def quality_recompute_stale() -> int:
    """Queue a computation for every project whose annotations were synced after its newest
    computation was created. Returns how many were queued."""
    from django.db.models import Max

    from workbench.annotations.models import Annotation

    latest_sync = dict(
        Annotation.objects.values("project_id").annotate(at=Max("synced_at")).values_list("project_id", "at")
    )
    latest_run = dict(
        QualityRun.objects.values("project_id").annotate(at=Max("created_at")).values_list("project_id", "at")
    )
    queued = 0
    for project in Project.objects.filter(id__in=list(latest_sync)):
        run_at = latest_run.get(project.id)
        if run_at is None or latest_sync[project.id] > run_at:
            try:
                quality_recompute_request(project=project, trigger="sync")
            except ValidationFailed as exc:  # one project's bad settings must not stop the others
                log.warning("project %s: %s", project.id, exc.message)
                continue
            queued += 1
    return queued
