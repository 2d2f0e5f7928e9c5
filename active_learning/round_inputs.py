"""The inputs of one round, grouped: the labeled set, the pool, the validation slice and the
round's options (task, committee, costs), with the checks that every round step runs at its
boundary (real exceptions that name the shapes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .classifiers import TASKS, Task
from .errors import InvalidInputError
from .scores import Aggregate
from .strategies import DEFAULT_KEYWORDS
from .validation import as_2d_float, check_same_rows, shape_of
from .vote_queue import DEFAULT_GOLD_SHARE


def _check_features(X: Any, name: str, task: Task, *, allow_empty: bool) -> Any:
    if task == "preference":
        arr = X if isinstance(X, np.ndarray) else np.asarray(X)
        if arr.ndim != 3 or arr.shape[1] not in (2, 3):
            raise InvalidInputError(
                f"{name} must have shape (n, 2|3, d) for preference pairs; got {shape_of(arr)}"
            )
        if not allow_empty and arr.shape[0] == 0:
            raise InvalidInputError(f"{name} must have at least one row; got shape {shape_of(arr)}")
        return arr
    return as_2d_float(X, name, allow_empty=allow_empty)


@dataclass(frozen=True)
class RoundOptions:
    """How a round trains, scores and evaluates.

    task: what the labels are; n_classes: classes of a multiclass task; label_names: the L label
    columns of a multilabel task (names its per-label metrics); committee_size: members of the
    bootstrap committee for disagreement strategies; model_params: keyword arguments of the
    task's model; multilabel_aggregate: how per-label scores combine; keywords: the lexicon of
    ``seed_keyword``; cost_fp / cost_fn: what a false positive / false negative costs, for the
    binary decision threshold; gold_share: the share of a ``split_votes`` batch given to items
    with a gold label; fallback: the model-free strategy a model-based one gives way to
    when the model does not beat its baseline (:mod:`.readiness`; None: no gate); audit_share:
    the share of every batch drawn uniformly at random from the pool (:mod:`.audit`).
    """

    task: Task = "binary"
    n_classes: int = 2
    label_names: Sequence[str] | None = None
    committee_size: int = 5
    model_params: Mapping[str, Any] | None = None
    multilabel_aggregate: Aggregate = "max"
    keywords: Sequence[str] = DEFAULT_KEYWORDS
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    gold_share: float = DEFAULT_GOLD_SHARE
    fallback: str | None = None
    audit_share: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InvalidInputError(f"unknown task {self.task!r}; valid tasks: {', '.join(TASKS)}")
        if not 0.0 <= self.gold_share <= 1.0:
            raise InvalidInputError(f"gold_share must be in [0, 1]; got {self.gold_share}")
        if not 0 <= self.audit_share <= 1:
            raise InvalidInputError(f"audit_share must lie in [0, 1]; got {self.audit_share}")


@dataclass(frozen=True)
class LabeledSet:
    """The labeled training data.

    features: (n_labeled, d), or (n_labeled, 2|3, d) for preference pairs (may be empty for a
    cold start). labels: (n_labeled,) class ids, {0, 0.5, 1} for preference, or (n_labeled, L)
    0/1 for multilabel.
    """

    features: Any
    labels: Any

    @property
    def n(self) -> int:
        return int(len(self.features))


@dataclass(frozen=True)
class Pool:
    """The unlabeled (or relabel-candidate) items a round ranks.

    features: (n_pool, d), or (n_pool, 2|3, d) for preference pairs (float16 / memmap fine:
    predicted in chunks). texts: (n_pool,) strings for keyword seeding. annotations:
    (n_pool, n_annotators) class ids with NaN gaps for ``activelab``; max_annotations: the most
    answers an item may get (``activelab`` stops asking for relabels there; ``split_votes``
    gives split items follow-ups up to it). vote_counts: (n_pool, c) counted votes per class for
    ``split_votes``; gold: (n_pool,) bool, items with a gold label; min_annotations: the overlap
    every item gets.
    """

    features: Any
    texts: Sequence[str] | None = None
    annotations: Any = None
    max_annotations: int | None = None
    vote_counts: Any = None
    gold: Any = None
    min_annotations: int | None = None


@dataclass(frozen=True)
class ValidationSlice:
    """A fixed validation slice: features (n_val, d) or (n_val, 2|3, d), labels shaped like
    :attr:`LabeledSet.labels`."""

    features: Any
    labels: Any


def check_round_data(labeled: LabeledSet, pool: Pool, task: Task) -> tuple[LabeledSet, Pool]:
    """The labeled set and pool with their arrays checked (same feature shape, labels row for
    row, annotations as float); raises :class:`InvalidInputError` naming the shapes."""
    X_pool = _check_features(pool.features, "features_pool", task, allow_empty=False)
    X_lab = _check_features(labeled.features, "features_labeled", task, allow_empty=True)
    y_lab = np.asarray(labeled.labels)
    check_same_rows(X_lab, y_lab, "features_labeled", "labels")
    if X_lab.shape[0] and X_lab.shape[1:] != X_pool.shape[1:]:
        raise InvalidInputError(
            f"features_labeled {shape_of(X_lab)} and features_pool {shape_of(X_pool)} differ in feature shape"
        )
    annotations = None if pool.annotations is None else np.asarray(pool.annotations, dtype=np.float64)
    return LabeledSet(X_lab, y_lab), replace(pool, features=X_pool, annotations=annotations)


def check_validation(validation: ValidationSlice, task: Task) -> ValidationSlice:
    """The validation slice with its arrays checked (at least one row, labels row for row)."""
    X_val = _check_features(validation.features, "features_val", task, allow_empty=False)
    y_val = np.asarray(validation.labels)
    check_same_rows(X_val, y_val, "features_val", "labels_val")
    return ValidationSlice(X_val, y_val)
