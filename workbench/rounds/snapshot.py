"""What a round sees of a project: which items train, validate and make up the pool, with labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
from django.db import connection
from django.db.models.fields.json import KT
from numpy.typing import NDArray

import active_learning as al
from workbench import votes
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.rounds.labels import Target, gold_target, in_validation_slice, majority_target

# Rows turned into Python objects at a time while reading every item of a project.
FETCH_ROWS = 50_000


@dataclass
class Snapshot:
    kind: kinds.Kind
    item_ids: list[int] = field(default_factory=list)  # every item, by id
    # The items' texts to embed, one column per field of the kind's ``embed_fields``
    # (``texts[f][position]``; read from the database as text, not the whole ``Item.data``
    # document: a million JSON decodes and a million dicts saved).
    texts: list[list[str]] = field(default_factory=list)
    train: list[int] = field(default_factory=list)  # positions into item_ids
    train_targets: list[Target] = field(default_factory=list)
    validation: list[int] = field(default_factory=list)
    validation_targets: list[Target] = field(default_factory=list)
    # Items that still need annotations: positions into item_ids, ascending.
    pool: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    # Per pool item, the class codes its annotators gave (for ActiveLab): {pool row: {annotator: code}}
    pool_votes: dict[int, dict[int, int]] = field(default_factory=dict)
    # Per pool item: its counted votes per direction, (n_pool, n_directions) (single-choice
    # kinds, for ``split_votes``: votes.direction_counts; None for multi-label kinds, whose vote
    # is a set of categories), whether it has a gold label, and how many annotators counted.
    pool_directions: NDArray[np.float64] | None = None
    pool_gold: NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, dtype=bool))
    pool_answered: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def targets(self, which: list[Target]) -> NDArray[np.float64]:
        spec = kinds.spec_of(self.kind)
        if spec.multiple:
            width = len(spec.labels)
            return np.array(which, dtype=np.float64).reshape(len(which), width)
        return np.array(which, dtype=np.float64)

    def joined_texts(self, positions: Sequence[int]) -> list[str]:
        """Each item's texts joined by a space (what keyword seeding reads)."""
        return [" ".join(column[p] for column in self.texts) for p in positions]


@dataclass
class _Pooled:
    """A pool item with answers or a gold label (every other pool item has neither)."""

    position: int
    gold: bool
    answers: list[votes.Answer]


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

    Most of a large project has neither gold nor answers: such an item is in the pool (every
    project asks for at least one annotator) with no votes, so the rules run per item only for
    the few that have either, and the rest is read in bulk.
    """
    kind = kinds.Kind(project.kind)
    spec = kinds.spec_of(kind)
    counted = votes.counted_answers(project=project, spec=spec)
    snap = Snapshot(kind=kind)
    snap.item_ids, snap.texts = _ids_and_texts(project, spec.embed_fields)
    ids = np.array(snap.item_ids, dtype=np.int64)
    with_gold = Item.objects.filter(project=project, gold__isnull=False)
    gold_of = {
        item_id: (digest, gold)
        for item_id, digest, gold in with_gold.values_list("id", "content_hash", "gold")
    }
    in_pool = np.ones(ids.shape[0], dtype=bool)
    pooled: list[_Pooled] = []
    for item_id in sorted(set(gold_of) | set(counted)):
        position = int(np.searchsorted(ids, item_id))
        if position == ids.shape[0] or ids[position] != item_id:
            continue  # imported after the items were read: the next round sees it
        content_hash, gold = gold_of.get(item_id, ("", None))
        gold_value = gold_target(kind, gold) if gold is not None else None
        if gold_value is not None and in_validation_slice(content_hash, validation_percent):
            snap.validation.append(position)
            snap.validation_targets.append(gold_value)
            in_pool[position] = False
            continue
        answers = counted.get(item_id, [])
        target = majority_target(kind, [a.label for a in answers]) if answers else None
        if target is not None:
            snap.train.append(position)
            snap.train_targets.append(target)
        if len(answers) < project.annotators_per_item or _needs_follow_up(spec, answers, follow_up_cap):
            pooled.append(_Pooled(position, gold_value is not None, answers))
        else:
            in_pool[position] = False
    snap.pool = np.flatnonzero(in_pool).astype(np.intp)
    n_pool = snap.pool.shape[0]
    snap.pool_gold = np.zeros(n_pool, dtype=bool)
    snap.pool_answered = np.zeros(n_pool, dtype=np.int64)
    if not spec.multiple:
        snap.pool_directions = np.zeros((n_pool, len(votes.directions(spec))), dtype=np.float64)
    for item in pooled:
        row = int(np.searchsorted(snap.pool, item.position))
        snap.pool_gold[row] = item.gold
        snap.pool_answered[row] = len(item.answers)
        if snap.pool_directions is not None and item.answers:
            snap.pool_votes[row] = {a.ls_user_id: spec.code(str(a.label)) for a in item.answers}
            snap.pool_directions[row] = votes.direction_counts(spec, [a.label for a in item.answers])
    return snap


def _ids_and_texts(project: Project, fields: Sequence[str]) -> tuple[list[int], list[list[str]]]:
    """Every item's id (ascending) and its texts, one column per field, read in bulk: the
    ORM's SQL run on a plain cursor (no model rows, no per-row converters). A client-side
    cursor: PostgreSQL's server-side one (what ``QuerySet.iterator`` uses) took 2.5x as long for
    a million rows, materialising the result for a cursor held outside a transaction."""
    texts = {f"text_{i}": KT(f"data__{name}") for i, name in enumerate(fields)}
    query = Item.objects.filter(project=project).order_by("id").annotate(**texts).values_list("id", *texts)
    sql, params = query.query.sql_with_params()
    ids: list[int] = []
    columns: list[list[str]] = [[] for _ in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            ids.extend(map(itemgetter(0), rows))  # ten times as fast as zip(*rows) here
            for j, column in enumerate(columns, start=1):
                column.extend(map(itemgetter(j), rows))
    return ids, columns


def _needs_follow_up(spec: kinds.KindSpec, answers: list[votes.Answer], cap: int | None) -> bool:
    """An item with its overlap of answers stays in the pool for another annotator while it is
    below the cap and its votes are split (not confident: ``active_learning.is_confident``)."""
    if cap is None or spec.multiple or len(answers) >= cap:
        return False
    counts = votes.direction_counts(spec, [a.label for a in answers])
    return not bool(al.is_confident(np.array([counts], dtype=np.float64))[0])


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
