"""Read a project's annotations into the arrays ``label_quality`` works on.

One rating per (item, annotator): when an annotator labeled an item more than once (a review
task puts an item in front of them again), their newest answer counts. Skipped annotations and
annotations without a label are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

import label_quality as lq
from workbench.annotations.models import Annotation
from workbench.projects import kinds
from workbench.projects.models import Project

# Code order per kind: binary follows the library's convention (0 = non-toxic, 1 = toxic).
CATEGORIES: dict[kinds.Kind, tuple[str, ...]] = {
    kinds.Kind.TOXICITY_BINARY: ("non-toxic", "toxic"),
    kinds.Kind.PREFERENCE: lq.PREFERENCE_CATEGORIES,
}


@dataclass(frozen=True)
class ProjectRatings:
    kind: kinds.Kind
    matrix: lq.RatingMatrix  # (items, annotators) or (items, annotators, labels) for multi-label
    # Per rating: the ISO week it was made in (None where missing), same shape as matrix[:, :].
    weeks: NDArray[Any]
    lead_times: dict[int, list[float]] = field(default_factory=dict)  # per Label Studio user id
    annotator_users: dict[int, int | None] = field(default_factory=dict)  # ls user id -> user id
    # Per (item id, ls user id): the label given and when (for the review trail).
    given: dict[tuple[int, int], tuple[Any, datetime | None]] = field(default_factory=dict)

    @property
    def multilabel(self) -> bool:
        return self.kind is kinds.Kind.TOXICITY_MULTILABEL

    @property
    def item_ids(self) -> list[int]:
        return [int(i) for i in self.matrix.item_ids]  # type: ignore[call-overload]

    @property
    def annotator_ids(self) -> list[int]:
        return [int(a) for a in self.matrix.annotator_ids]  # type: ignore[call-overload]


def label_to_value(kind: kinds.Kind, label: Any) -> Any:
    """A stored label as a hashable value (multi-label: a sorted tuple)."""
    if kind is kinds.Kind.TOXICITY_MULTILABEL:
        return tuple(sorted(label or ()))
    return label


def project_ratings(project: Project) -> ProjectRatings | None:
    """The project's ratings, or None when nobody has labeled anything yet."""
    kind = kinds.Kind(project.kind)
    rows = (
        Annotation.objects.filter(project=project, was_cancelled=False, label__isnull=False)
        .order_by("ls_created_at", "ls_annotation_id")
        .values_list("item_id", "ls_user_id", "annotator_id", "label", "lead_time", "ls_created_at")
    )
    latest: dict[tuple[int, int], tuple[Any, datetime | None]] = {}
    lead_times: dict[int, list[float]] = defaultdict(list)
    users: dict[int, int | None] = {}
    for item_id, ls_user, user_id, label, lead_time, created in rows:
        if kind is not kinds.Kind.TOXICITY_MULTILABEL and not isinstance(label, str):
            continue
        latest[(item_id, ls_user)] = (label, created)
        if lead_time is not None:
            lead_times[ls_user].append(float(lead_time))
        users[ls_user] = user_id if user_id is not None else users.get(ls_user)
    if not latest:
        return None
    keys = sorted(latest)
    item_ids = [k[0] for k in keys]
    annotator_ids = [k[1] for k in keys]
    items_order = sorted(set(item_ids))
    annotators_order = sorted(set(annotator_ids))
    if kind is kinds.Kind.TOXICITY_MULTILABEL:
        names = kinds.JIGSAW_LABELS
        onehot = np.array([[1.0 if n in (latest[k][0] or ()) else 0.0 for n in names] for k in keys])
        matrix = lq.multilabel_ratings_from_long(
            item_ids, annotator_ids, onehot, label_names=names, items=items_order, annotators=annotators_order
        )
    else:
        matrix = lq.ratings_from_long(
            item_ids,
            annotator_ids,
            [latest[k][0] for k in keys],
            categories=CATEGORIES[kind],
            items=items_order,
            annotators=annotators_order,
        )
    row = {i: n for n, i in enumerate(items_order)}
    col = {a: n for n, a in enumerate(annotators_order)}
    weeks = np.full((len(items_order), len(annotators_order)), None, dtype=object)
    for (item_id, ls_user), (_, created) in latest.items():
        if created is not None:
            weeks[row[item_id], col[ls_user]] = lq.iso_week([created])[0]
    return ProjectRatings(
        kind=kind,
        matrix=matrix,
        weeks=weeks,
        lead_times=dict(lead_times),
        annotator_users=users,
        given=latest,
    )
