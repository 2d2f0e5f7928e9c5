"""Informativeness scores: pure functions over probability arrays, higher = label sooner.

Single-label inputs are class probabilities ``proba`` (n, c). Multi-label inputs are independent
per-label positive probabilities (n, L); each label is scored as its own binary problem
``[1 - p, p]`` and the L scores are aggregated per item with ``"max"`` (default: an item is worth
labeling if *any* label is uncertain, which keeps rare labels in play) or ``"mean"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import modal_adapter
from .errors import InvalidInputError, UnknownNameError
from .validation import check_label_proba, check_proba, shape_of

Aggregate = Literal["max", "mean"]
AGGREGATES: tuple[Aggregate, ...] = ("max", "mean")
Measure = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def least_confidence_scores(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 - max_c p (modAL classifier_uncertainty). proba (n, c) -> (n,) in [0, 1 - 1/c]."""
    return modal_adapter.least_confidence(check_proba(proba))


def margin_scores(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 - (p_top1 - p_top2), from modAL classifier_margin. proba (n, c) -> (n,) in [0, 1]."""
    return 1.0 - modal_adapter.margin(check_proba(proba))


def entropy_scores(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shannon entropy in nats (modAL classifier_entropy). proba (n, c) -> (n,) in [0, log c]."""
    return modal_adapter.entropy(check_proba(proba))


UNCERTAINTY: dict[str, Measure] = {
    "least_confidence": least_confidence_scores,
    "margin": margin_scores,
    "entropy": entropy_scores,
}


def _binary_stack(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([1.0 - p, p])


def aggregate_labels(per_label: NDArray[np.float64], aggregate: Aggregate) -> NDArray[np.float64]:
    """Combine per-label scores (n, L) into (n,) with ``"max"`` or ``"mean"``."""
    if aggregate == "max":
        return np.asarray(per_label.max(axis=1), dtype=np.float64)
    if aggregate == "mean":
        return np.asarray(per_label.mean(axis=1), dtype=np.float64)
    raise UnknownNameError("aggregate", str(aggregate), list(AGGREGATES))


def multilabel_scores(
    label_proba: NDArray[np.float64], measure: str, aggregate: Aggregate = "max"
) -> NDArray[np.float64]:
    """Uncertainty ``measure`` per label on [1 - p, p], aggregated across labels.

    label_proba (n, L) -> (n,).
    """
    if measure not in UNCERTAINTY:
        raise UnknownNameError("uncertainty measure", measure, list(UNCERTAINTY))
    p = check_label_proba(label_proba, "label_proba")
    fn = UNCERTAINTY[measure]
    per_label = np.column_stack([fn(_binary_stack(p[:, j])) for j in range(p.shape[1])])
    return aggregate_labels(per_label, aggregate)


def _check_committee(committee_proba: NDArray[np.float64]) -> NDArray[np.float64]:
    arr = np.asarray(committee_proba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[2] < 2:
        raise InvalidInputError(
            f"committee_proba must have shape (n_members>=2, n, n_classes>=2); got {shape_of(arr)}"
        )
    for m in range(arr.shape[0]):
        check_proba(arr[m], f"committee_proba[{m}]")
    return arr


def vote_entropy_scores(committee_proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """Entropy of the members' hard votes (modAL vote_entropy). (m, n, c) -> (n,)."""
    return modal_adapter.committee_vote_entropy(_check_committee(committee_proba))


def kl_max_scores(committee_proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """Max over members of KL(member || consensus) (modAL KL_max_disagreement). (m, n, c) -> (n,)."""
    return modal_adapter.committee_kl_max(_check_committee(committee_proba))


DISAGREEMENT: dict[str, Measure] = {
    "vote_entropy": vote_entropy_scores,
    "kl_max": kl_max_scores,
}


def multilabel_committee_scores(
    committee_label_proba: NDArray[np.float64], measure: str, aggregate: Aggregate = "max"
) -> NDArray[np.float64]:
    """Committee disagreement per label on [1 - p, p], aggregated. (m, n, L) -> (n,)."""
    if measure not in DISAGREEMENT:
        raise UnknownNameError("disagreement measure", measure, list(DISAGREEMENT))
    arr = np.asarray(committee_label_proba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[0] < 2:
        raise InvalidInputError(
            f"committee_label_proba must have shape (n_members>=2, n, L); got {shape_of(arr)}"
        )
    fn = DISAGREEMENT[measure]
    per_label = np.column_stack(
        [
            fn(np.stack([_binary_stack(arr[m, :, j]) for m in range(arr.shape[0])]))
            for j in range(arr.shape[2])
        ]
    )
    return aggregate_labels(per_label, aggregate)
