"""What a round sees of a project: which items train, validate and make up the pool, with labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models.fields.json import KT
from numpy.typing import NDArray

import active_learning as al
from workbench import votes
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.rounds.labels import Target, gold_target, in_validation_slice, majority_target


@dataclass
class Snapshot:
    kind: kinds.Kind
    item_ids: list[int] = field(default_factory=list)  # every item, by id
    # Each item's texts to embed, {field: text} over the kind's ``embed_fields`` (read from the
    # database as text, not the whole ``Item.data`` document: a million JSON decodes saved).
    data: list[dict[str, Any]] = field(default_factory=list)
    ls_task_ids: list[int | None] = field(default_factory=list)
    train: list[int] = field(default_factory=list)  # positions into item_ids
    train_targets: list[Target] = field(default_factory=list)
    validation: list[int] = field(default_factory=list)
    validation_targets: list[Target] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)  # items that still need annotations
    # Per pool item, the class codes its annotators gave (for ActiveLab): {pool row: {annotator: code}}
    pool_votes: dict[int, dict[int, int]] = field(default_factory=dict)
    # Per pool item: its counted votes per direction (single-choice kinds; votes.direction_counts),
    # whether it has a gold label, and how many annotators counted.
    pool_directions: list[list[int]] = field(default_factory=list)
    pool_gold: list[bool] = field(default_factory=list)
    pool_answered: list[int] = field(default_factory=list)

    def targets(self, which: list[Target]) -> NDArray[np.float64]:
        spec = kinds.spec_of(self.kind)
        if spec.multiple:
            width = len(spec.labels)
            return np.array(which, dtype=np.float64).reshape(len(which), width)
        return np.array(which, dtype=np.float64)


def snapshot_take(*, project: Project, validation_percent: int, follow_up_cap: int | None = None) -> Snapshot:
    """Read the project once: items, the answers that count (:mod:`workbench.votes`: each
    annotator's newest, so a review answer replaces the reviewer's earlier one), the validation
    hold-out.

    Training: items outside the hold-out whose votes give a training target. Validation: items
    with a gold label inside the hold-out (scored against gold, never queued, never trained on).
    Pool: items outside the hold-out answered by fewer annotators than the project asks for,
    including partly annotated ones (candidates for another annotation); with ``follow_up_cap``
    (``split_votes``), also those whose votes are split and that have fewer answers than the cap
    (they get a follow-up task).
    """
    kind = kinds.Kind(project.kind)
    spec = kinds.spec_of(kind)
    counted = votes.counted_answers(project=project, spec=spec)
    snap = Snapshot(kind=kind)
    texts = {f"text_{i}": KT(f"data__{name}") for i, name in enumerate(spec.embed_fields)}
    rows = (
        Item.objects.filter(project=project)
        .order_by("id")
        .annotate(**texts)
        .values_list("id", "content_hash", "gold", "ls_task_id", *texts)
        .iterator(chunk_size=5000)
    )
    fields = spec.embed_fields
    for position, (item_id, content_hash, gold, ls_task_id, *item_texts) in enumerate(rows):
        snap.item_ids.append(item_id)
        snap.data.append(dict(zip(fields, item_texts, strict=True)))
        snap.ls_task_ids.append(ls_task_id)
        # Most of a large pool has neither gold nor answers: skip the label rules for those.
        gold_value = gold_target(kind, gold) if gold is not None else None
        if gold_value is not None and in_validation_slice(content_hash, validation_percent):
            snap.validation.append(position)
            snap.validation_targets.append(gold_value)
            continue
        answers = counted.get(item_id, [])
        target = majority_target(kind, [a.label for a in answers]) if answers else None
        if target is not None:
            snap.train.append(position)
            snap.train_targets.append(target)
        if len(answers) < project.annotators_per_item or _needs_follow_up(spec, answers, follow_up_cap):
            if answers and not spec.multiple:
                snap.pool_votes[len(snap.pool)] = {a.ls_user_id: spec.code(str(a.label)) for a in answers}
            if not spec.multiple:
                snap.pool_directions.append(votes.direction_counts(spec, [a.label for a in answers]))
            snap.pool_gold.append(gold_value is not None)
            snap.pool_answered.append(len(answers))
            snap.pool.append(position)
    return snap


def _needs_follow_up(spec: kinds.KindSpec, answers: list[votes.Answer], cap: int | None) -> bool:
    """An item with its overlap of answers stays in the pool for another annotator while it is
    below the cap and its votes are split (not confident: ``active_learning.is_confident``)."""
    if cap is None or spec.multiple or len(answers) >= cap:
        return False
    counts = votes.direction_counts(spec, [a.label for a in answers])
    return not bool(al.is_confident(np.array([counts], dtype=np.float64))[0])


def direction_matrix(snap: Snapshot) -> NDArray[np.float64] | None:
    """(n_pool, n_directions) counted votes per direction, for ``split_votes``; None for
    multi-label kinds (a vote there is a set of categories)."""
    if kinds.spec_of(snap.kind).multiple:
        return None
    width = len(votes.directions(kinds.spec_of(snap.kind)))
    return np.array(snap.pool_directions, dtype=np.float64).reshape(len(snap.pool), width)


def votes_matrix(snap: Snapshot) -> NDArray[np.float64]:
    """(n_pool, n_annotators) class codes (the kind's ``codes``: binary 1 = toxic, as the
    training targets) with NaN gaps, for ActiveLab."""
    annotators = sorted({user for voted in snap.pool_votes.values() for user in voted})
    column = {user: j for j, user in enumerate(annotators)}
    out = np.full((len(snap.pool), max(len(annotators), 1)), np.nan)
    for row, voted in snap.pool_votes.items():
        for user, code in voted.items():
            out[row, column[user]] = code
    return out
