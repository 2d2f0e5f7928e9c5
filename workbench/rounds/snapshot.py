"""What a round sees of a project: which items train, validate and make up the pool, with labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from workbench.annotations.models import Annotation
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.rounds.labels import Target, gold_target, in_validation_slice, majority_target


@dataclass
class Snapshot:
    kind: kinds.Kind
    item_ids: list[int] = field(default_factory=list)  # every item, by id
    data: list[dict[str, Any]] = field(default_factory=list)
    ls_task_ids: list[int | None] = field(default_factory=list)
    train: list[int] = field(default_factory=list)  # positions into item_ids
    train_targets: list[Target] = field(default_factory=list)
    validation: list[int] = field(default_factory=list)
    validation_targets: list[Target] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)  # items that still need annotations
    # Per pool item, the class ids its annotators gave (for ActiveLab): {pool row: {annotator: class}}
    pool_votes: dict[int, dict[int, int]] = field(default_factory=dict)

    def targets(self, which: list[Target]) -> NDArray[np.float64]:
        if self.kind is kinds.Kind.TOXICITY_MULTILABEL:
            width = len(kinds.SPECS[self.kind].labels)
            return np.array(which, dtype=np.float64).reshape(len(which), width)
        return np.array(which, dtype=np.float64)


def snapshot_take(*, project: Project, validation_percent: int) -> Snapshot:
    """Read the project once: items, their non-cancelled annotations, the validation hold-out.

    Training: items outside the hold-out whose annotations have a majority. Validation: items
    with a gold label inside the hold-out (scored against gold, never queued, never trained on).
    Pool: items outside the hold-out with fewer annotations than the project asks for, including
    partly annotated ones (candidates for another annotation).
    """
    kind = kinds.Kind(project.kind)
    labels: dict[int, list[Any]] = defaultdict(list)
    voters: dict[int, dict[int, Any]] = defaultdict(dict)
    for item_id, ls_user_id, label in (
        Annotation.objects.filter(project=project, was_cancelled=False)
        .values_list("item_id", "ls_user_id", "label")
        .iterator(chunk_size=5000)
    ):
        labels[item_id].append(label)
        voters[item_id][ls_user_id] = label
    snap = Snapshot(kind=kind)
    choices = kinds.SPECS[kind].labels
    rows = (
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("id", "content_hash", "data", "gold", "ls_task_id")
        .iterator(chunk_size=5000)
    )
    for position, (item_id, content_hash, data, gold, ls_task_id) in enumerate(rows):
        snap.item_ids.append(item_id)
        snap.data.append(data)
        snap.ls_task_ids.append(ls_task_id)
        gold_value = gold_target(kind, gold)
        if gold_value is not None and in_validation_slice(content_hash, validation_percent):
            snap.validation.append(position)
            snap.validation_targets.append(gold_value)
            continue
        target = majority_target(kind, labels.get(item_id, []))
        if target is not None:
            snap.train.append(position)
            snap.train_targets.append(target)
        if len(labels.get(item_id, [])) < project.annotators_per_item:
            if voters.get(item_id) and not kinds.SPECS[kind].multiple:
                snap.pool_votes[len(snap.pool)] = {
                    user: choices.index(str(label))
                    for user, label in voters[item_id].items()
                    if label is not None
                }
            snap.pool.append(position)
    return snap


def votes_matrix(snap: Snapshot) -> NDArray[np.float64]:
    """(n_pool, n_annotators) class ids with NaN gaps, for ActiveLab. Binary class ids follow the
    training targets (1 = toxic)."""
    annotators = sorted({user for votes in snap.pool_votes.values() for user in votes})
    column = {user: j for j, user in enumerate(annotators)}
    out = np.full((len(snap.pool), max(len(annotators), 1)), np.nan)
    flip = snap.kind is kinds.Kind.TOXICITY_BINARY  # choices are (toxic, non-toxic); targets 1 = toxic
    for row, votes in snap.pool_votes.items():
        for user, class_id in votes.items():
            out[row, column[user]] = 1 - class_id if flip else class_id
    return out
