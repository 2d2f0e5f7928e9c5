"""Annotator-disagreement scores (ActiveLab, via cleanlab.multiannotator).

The pool may mix items that already carry human labels (candidates for *another* annotation) with
items nobody has labeled. ``annotations`` is an (n, n_annotators) float array holding class ids
and NaN where an annotator did not label an item; rows that are all NaN are unlabeled. ActiveLab
scores both groups on one scale (a labeled item whose annotators disagree, or disagree with the
model, scores low = informative), so relabeling competes fairly with labeling new items.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError
from .validation import check_proba, shape_of


def check_annotations(annotations: Any, n: int, n_classes: int) -> NDArray[np.float64]:
    """Validate an (n, n_annotators) matrix of class ids / NaN."""
    arr = np.asarray(annotations, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 1:
        raise InvalidInputError(f"annotations must have shape (n={n}, n_annotators>=1); got {shape_of(arr)}")
    vals = arr[~np.isnan(arr)]
    if vals.size and (np.any(vals != np.round(vals)) or vals.min() < 0 or vals.max() >= n_classes):
        raise InvalidInputError(f"annotations must hold class ids in [0, {n_classes}) or NaN")
    return arr


def annotation_counts(annotations: NDArray[np.float64]) -> NDArray[np.int64]:
    """Number of labels per item. (n, n_annotators) -> (n,)."""
    return np.asarray(np.sum(~np.isnan(annotations), axis=1), dtype=np.int64)


def majority_labels(
    annotations: NDArray[np.float64], n_classes: int, fallback: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Majority vote per item (ties -> lowest class id, or ``fallback`` (n,) where given).

    Unlabeled rows get -1. (n, n_annotators) -> (n,).
    """
    counts = np.stack([np.sum(annotations == c, axis=1) for c in range(n_classes)], axis=1)
    out: NDArray[np.int64] = np.argmax(counts, axis=1).astype(np.int64)
    top = counts.max(axis=1)
    tie = np.sum(counts == top[:, None], axis=1) > 1
    if fallback is not None:
        out[tie] = fallback[tie]
    out[top == 0] = -1
    return out


def activelab_scores(
    annotations: Any,
    proba: Any,
    *,
    max_annotations: int | None = None,
) -> NDArray[np.float64]:
    """ActiveLab priority per pool item, higher = annotate next.

    annotations (n, n_annotators) with NaN gaps; proba (n, c) model probabilities for every item.
    Returns (n,) = ``1 - cleanlab score``; items that already have ``max_annotations`` labels get
    ``-inf`` (ineligible). Annotator columns with no label at all are dropped before calling
    cleanlab, which rejects them.
    """
    from cleanlab.multiannotator import get_active_learning_scores  # type: ignore[import-untyped,unused-ignore]

    P = check_proba(proba)
    A = check_annotations(annotations, P.shape[0], P.shape[1])
    A = A[:, ~np.all(np.isnan(A), axis=0)]
    counts = annotation_counts(A) if A.shape[1] else np.zeros(P.shape[0], dtype=np.int64)
    labeled = counts > 0
    out = np.empty(P.shape[0], dtype=np.float64)
    with warnings.catch_warnings():
        # cleanlab warns when few items have several labels; that is the normal early state here.
        warnings.simplefilter("ignore")
        if labeled.any():
            sub = A[labeled]
            sub = sub[:, ~np.all(np.isnan(sub), axis=0)]
            s_lab, s_unl = get_active_learning_scores(
                labels_multiannotator=sub,
                pred_probs=P[labeled],
                pred_probs_unlabeled=P[~labeled] if (~labeled).any() else None,
            )
            out[labeled] = 1.0 - np.asarray(s_lab, dtype=np.float64)
            if (~labeled).any():
                out[~labeled] = 1.0 - np.asarray(s_unl, dtype=np.float64)
        else:
            _, s_unl = get_active_learning_scores(pred_probs_unlabeled=P)
            out[:] = 1.0 - np.asarray(s_unl, dtype=np.float64)
    if max_annotations is not None:
        out[counts >= max_annotations] = -np.inf
    return out


def human_disagreement(annotations: Any, n_classes: int) -> NDArray[np.float64]:
    """Fraction of an item's labels that disagree with its majority label. (n, M) -> (n,); 0 when
    an item has fewer than two labels."""
    A = np.asarray(annotations, dtype=np.float64)
    counts = np.stack([np.sum(c == A, axis=1) for c in range(n_classes)], axis=1)
    total = counts.sum(axis=1)
    out = np.zeros(A.shape[0], dtype=np.float64)
    many = total >= 2
    out[many] = 1.0 - counts[many].max(axis=1) / total[many]
    return out
