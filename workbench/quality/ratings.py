"""Read a project's annotations into the arrays ``label_quality`` works on.

One rating per (item, annotator): the answers that count under the vote policy
(:mod:`workbench.votes`: each annotator's newest labeled, non-cancelled answer, so a review
answer replaces the earlier one). Codes follow the kind's ``codes`` order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

import label_quality as lq
from workbench import votes
from workbench.projects import kinds
from workbench.projects.models import Project


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
    # Per item position: the labels that count, one per annotator (the vote policy's input).
    votes: list[list[kinds.Label]] = field(default_factory=list)

    @property
    def spec(self) -> kinds.KindSpec:
        return kinds.spec_of(self.kind)

    @property
    def multilabel(self) -> bool:
        return self.spec.multiple

    # Cached: built once per ratings, not on every access (a loop over 5,000 issues that read
    # ``item_ids[pos]`` rebuilt a 100,000-element list each time: 95 s of a 100k-item run).
    @cached_property
    def item_ids(self) -> list[int]:
        return [int(i) for i in self.matrix.item_ids]  # type: ignore[call-overload]

    @cached_property
    def annotator_ids(self) -> list[int]:
        return [int(a) for a in self.matrix.annotator_ids]  # type: ignore[call-overload]


def project_ratings(project: Project) -> ProjectRatings | None:
    """The project's ratings, or None when nobody has labeled anything yet."""
    kind = kinds.Kind(project.kind)
    spec = kinds.spec_of(kind)
    counted = votes.counted_answers(project=project, spec=spec)
    if not counted:
        return None
    latest: dict[tuple[int, int], tuple[Any, datetime | None]] = {}
    lead_times: dict[int, list[float]] = defaultdict(list)
    users: dict[int, int | None] = {}
    for item_id, answers in counted.items():
        for answer in answers:
            latest[(item_id, answer.ls_user_id)] = (answer.label, answer.created_at)
            if answer.lead_time is not None:
                lead_times[answer.ls_user_id].append(float(answer.lead_time))
            if answer.annotator_id is not None or answer.ls_user_id not in users:
                users[answer.ls_user_id] = answer.annotator_id
    keys = sorted(latest)
    item_ids = [k[0] for k in keys]
    annotator_ids = [k[1] for k in keys]
    items_order = sorted(counted)
    annotators_order = sorted(set(annotator_ids))
    if spec.multiple:
        names = spec.labels
        onehot = np.array([[1.0 if n in latest[k][0] else 0.0 for n in names] for k in keys])
        matrix = lq.multilabel_ratings_from_long(
            item_ids, annotator_ids, onehot, label_names=names, items=items_order, annotators=annotators_order
        )
    else:
        matrix = lq.ratings_from_long(
            item_ids,
            annotator_ids,
            [latest[k][0] for k in keys],
            categories=spec.codes,
            items=items_order,
            annotators=annotators_order,
        )
    row = {i: n for n, i in enumerate(items_order)}
    col = {a: n for n, a in enumerate(annotators_order)}
    weeks = np.full((len(items_order), len(annotators_order)), None, dtype=object)
    week_of: dict[Any, str] = {}  # per calendar day: a few hundred days, not one call per rating
    for (item_id, ls_user), (_, created) in latest.items():
        if created is not None:
            day = created.date()
            week = week_of.get(day)
            if week is None:
                week = week_of[day] = lq.iso_week([day])[0]
            weeks[row[item_id], col[ls_user]] = week
    return ProjectRatings(
        kind=kind,
        matrix=matrix,
        weeks=weeks,
        lead_times=dict(lead_times),
        annotator_users=users,
        given=latest,
        votes=[[a.label for a in counted[i]] for i in items_order],
    )
