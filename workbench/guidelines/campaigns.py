"""Relabel campaigns: after a policy shift, send items labeled under older guideline versions to
annotators again, under the new one, most likely to change first, and track what came back.

Selection reads the answers that count (the vote policy): an item qualifies when some of its
counted answers were made under an older version (or before any guideline) and none under the
campaign's version yet; the selections of ``selection.py`` narrow that (AND). An explicit list
of item ids may also name items with no answer yet. Items are ordered by the current model's
disagreement with their old label (``scores.py``: ``1 - P(old label)``, out of fold), each gets
one follow-up task (its data carries ``relabel_campaign`` and the new version) imported in that
order and put at the head of Label Studio's queue in that order (``rounds.queue``), and the order
is recorded (``RelabelTask.rank``). A task is ``queued`` until the item has a counted answer
under the campaign's version, then ``changed`` or ``unchanged`` by comparing the consensus of
those answers with the old label (``labeled`` for an item that had none).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from workbench import votes
from workbench.errors import ValidationFailed, upstream_error
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign, RelabelTask
from workbench.guidelines.scores import ModelScores, model_scores
from workbench.guidelines.selection import (
    Checked,
    Selection,
    in_groups,
    keeps_label,
    selection_check,
    text_of,
)
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.kinds import KindSpec, Label, spec_of
from workbench.projects.models import Item, Project
from workbench.projects.services import task_data
from workbench.rounds.queue import queue_put_first

STATUSES = ("queued", "changed", "unchanged", "labeled")


def _as_stored(label: Label | None) -> Any:
    return list(label) if isinstance(label, tuple) else label


def campaign_open(
    *,
    version: GuidelineVersion,
    selection: Selection,
    created_by: User | None,
    seed: int | None = None,
) -> RelabelCampaign:
    """Select the items, order them and push one follow-up task each; nothing is recorded if
    Label Studio refuses. A bad selection, or one that finds no item, is a 400. ``seed`` fixes
    the folds of the model that orders them (random when None; recorded in ``ordering_note``).

    Other apps queue items they chose with ``Selection(item_ids=(...))``."""
    project: Project = version.project
    spec = spec_of(project.kind)
    checked = selection_check(project=project, spec=spec, selection=selection)
    counted = votes.counted_answers(project=project, spec=spec)
    chosen = _candidates(checked, project, spec, counted, version.version)
    seed = secrets.randbits(32) if seed is None else seed
    scores: ModelScores | str = "nothing to score"
    if chosen and (selection.by_score or any(old is not None for old in chosen.values())):
        current = {
            i
            for i, answers in counted.items()
            if any(a.guideline_version == version.version for a in answers)
        }
        scores = model_scores(
            spec=spec, labels=_training_labels(spec, counted, version.version), current=current, seed=seed
        )
    if selection.by_score:
        if isinstance(scores, str):
            raise ValidationFailed(
                f"relabel_score_min: the items have no model scores: {scores}.",
                extra={"fields": {"relabel_score_min": [scores]}},
            )
        low = 0.0 if selection.score_min is None else selection.score_min
        high = 1.0 if selection.score_max is None else selection.score_max
        chosen = {i: old for i, old in chosen.items() if i in scores.score and low <= scores.score[i] <= high}
    if not chosen:
        raise ValidationFailed(
            "The relabel selection found no item labeled under an older guideline version."
            if selection.item_ids is None
            else "relabel_item_ids: every item given already has an answer under the current version.",
        )
    order = _ordered(chosen, scores)
    items = Item.objects.select_related("project").in_bulk(order)
    with transaction.atomic():
        campaign = RelabelCampaign.objects.create(
            version=version,
            label=selection.label,
            pattern=selection.pattern,
            selection=selection.record(),
            ordering=RelabelCampaign.Ordering.ITEM
            if isinstance(scores, str)
            else RelabelCampaign.Ordering.MODEL,
            ordering_note=(
                f"item order: {scores}" if isinstance(scores, str) else f"{scores.note}, seed {seed}"
            )[:500],
            created_by=created_by if created_by is not None and created_by.pk else None,
            created_at=timezone.now(),
        )
        tasks = [
            {**task_data(items[item_id], guideline_version=version.version), "relabel_campaign": campaign.id}
            for item_id in order
        ]
        try:
            task_ids = connection.get_gateway().import_tasks(project_id=project.ls_id(), tasks=tasks)
            queue_version = queue_put_first(project=project, ordered_task_ids=task_ids)
        except LabelStudioError as exc:
            raise upstream_error(exc, "Label Studio refused the relabel tasks") from exc
        RelabelCampaign.objects.filter(id=campaign.id).update(queue_model_version=queue_version)
        campaign.queue_model_version = queue_version
        known = {} if isinstance(scores, str) else scores.score
        change = {} if isinstance(scores, str) else scores.change
        RelabelTask.objects.bulk_create(
            RelabelTask(
                campaign=campaign,
                item_id=item_id,
                old_label=_as_stored(chosen[item_id]),
                ls_task_id=task_id,
                rank=rank,
                model_score=known.get(item_id),
                change_score=change.get(item_id) if chosen[item_id] is not None else None,
            )
            for rank, (item_id, task_id) in enumerate(zip(order, task_ids, strict=True))
        )
    return campaign


def _candidates(
    checked: Checked, project: Project, spec: KindSpec, counted: dict[int, list[votes.Answer]], number: int
) -> dict[int, Label | None]:
    """Item id -> its older answers' consensus, for the items every selection keeps."""
    s = checked.selection
    explicit = s.item_ids is not None
    pool = sorted(set(s.item_ids or ())) if explicit else sorted(counted)
    chosen: dict[int, Label | None] = {}
    for item_id in pool:
        answers = counted.get(item_id, [])
        if any(a.guideline_version is not None and a.guideline_version >= number for a in answers):
            continue
        old = votes.consensus(spec, [a.label for a in answers]) if answers else None
        if old is None and not explicit:
            continue
        if not keeps_label(spec, s.label, old):
            continue
        if checked.release_items is not None and item_id not in checked.release_items:
            continue
        chosen[item_id] = old
    if checked.groups and chosen:
        kept = in_groups(checked, project, list(chosen))
        chosen = {i: old for i, old in chosen.items() if i in kept}
    if checked.regex is not None and chosen:
        regex = checked.regex
        data = dict(Item.objects.filter(id__in=list(chosen)).values_list("id", "data"))
        chosen = {i: old for i, old in chosen.items() if regex.search(text_of(data[i], spec))}
    return chosen


def _training_labels(spec: KindSpec, counted: dict[int, list[votes.Answer]], number: int) -> dict[int, Label]:
    """The label of every labeled item as the model learns it: the consensus of its answers
    under the campaign's version where it has some (the current policy), else of all."""
    out: dict[int, Label] = {}
    for item_id, answers in counted.items():
        under = [a.label for a in answers if a.guideline_version == number]
        label = votes.consensus(spec, under or [a.label for a in answers])
        if label is not None:
            out[item_id] = label
    return out


def _ordered(chosen: dict[int, Label | None], scores: ModelScores | str) -> list[int]:
    """Most likely to change first (ties by item id); items without a score (no old label, or
    no model) after them, by item id."""
    if isinstance(scores, str):
        return sorted(chosen)
    scored = [i for i in chosen if chosen[i] is not None and i in scores.change]
    rest = sorted(set(chosen) - set(scored))
    return sorted(scored, key=lambda i: (-scores.change[i], i)) + rest


def campaign_progress(campaign: RelabelCampaign) -> dict[str, Any]:
    """Per task, in serving order: queued / changed / unchanged / labeled, and the counts."""
    project = campaign.version.project
    spec = spec_of(project.kind)
    tasks = list(campaign.tasks.order_by("rank", "item_id"))
    counted = votes.counted_answers(project=project, spec=spec, item_ids=[t.item_id for t in tasks])
    rows = []
    for task in tasks:
        under = [
            a.label for a in counted.get(task.item_id, []) if a.guideline_version == campaign.version.version
        ]
        new = votes.consensus(spec, under) if under else None
        old = spec.normalized(task.old_label)
        if new is None:
            status = "queued"
        elif old is None:
            status = "labeled"
        else:
            status = "changed" if new != old else "unchanged"
        rows.append(
            {
                "item_id": task.item_id,
                "ls_task_id": task.ls_task_id,
                "rank": task.rank,
                "model_score": task.model_score,
                "change_score": task.change_score,
                "old_label": task.old_label,
                "new_label": None if new is None else _as_stored(new),
                "status": status,
            }
        )
    counts = {name: sum(r["status"] == name for r in rows) for name in STATUSES}
    return {
        "id": campaign.id,
        "guideline_version": campaign.version.version,
        "relabel_label": campaign.label,
        "relabel_pattern": campaign.pattern,
        "selection": campaign.selection,
        "ordering": campaign.ordering,
        "ordering_note": campaign.ordering_note,
        "queue_model_version": campaign.queue_model_version,
        "created_at": campaign.created_at,
        "counts": {**counts, "done": len(rows) - counts["queued"], "total": len(rows)},
        "tasks": rows,
    }


def queued_follow_ups(*, project: Project) -> list[int]:
    """Label Studio task ids of the project's follow-ups still waiting for an answer, in serving
    order (older campaigns first, each in its order): what a new queue order must keep first."""
    out: list[int] = []
    for campaign in (
        RelabelCampaign.objects.filter(version__project=project)
        .select_related("version__project")
        .order_by("id")
    ):
        out += [t["ls_task_id"] for t in campaign_progress(campaign)["tasks"] if t["status"] == "queued"]
    return out


def relabel_sources(
    *, project: Project, item_ids: set[int] | None, after: datetime | None, before: datetime
) -> dict[int, str]:
    """Item id -> ``campaign <id>`` for the items whose label a campaign's follow-up could have
    set between two releases: the newest campaign opened before ``before`` with an answer under
    its version made after ``after`` (None: any time) and before ``before``."""
    from workbench.annotations.models import Annotation

    tasks = RelabelTask.objects.filter(
        campaign__version__project=project, campaign__created_at__lt=before
    ).values_list("item_id", "campaign_id", "campaign__version__version", "campaign__created_at")
    if item_ids is not None:
        tasks = tasks.filter(item_id__in=list(item_ids))
    by_item: dict[int, list[tuple[int, int, datetime]]] = {}
    for item_id, campaign_id, number, opened in tasks.iterator(chunk_size=5000):
        by_item.setdefault(item_id, []).append((campaign_id, number, opened))
    if not by_item:
        return {}
    answers = Annotation.objects.filter(
        project=project,
        item_id__in=list(by_item),
        was_cancelled=False,
        label__isnull=False,
        ls_created_at__lt=before,
    )
    if after is not None:
        answers = answers.filter(ls_created_at__gte=after)
    made: dict[int, list[tuple[int | None, datetime | None]]] = {}
    for item_id, stamped, when in answers.values_list("item_id", "guideline_version", "ls_created_at"):
        made.setdefault(item_id, []).append((stamped, when))
    out: dict[int, str] = {}
    for item_id, campaigns in by_item.items():
        for campaign_id, number, opened in sorted(campaigns, key=lambda c: c[0], reverse=True):
            if any(v == number and when is not None and when >= opened for v, when in made.get(item_id, [])):
                out[item_id] = f"campaign {campaign_id}"
                break
    return out
