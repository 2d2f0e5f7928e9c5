"""Pipelines as a labeling project needs them: out-of-fold probabilities that cope with classes
too rare to train on, and gold accuracy over whole multi-label label sets.

The building blocks (:func:`~label_quality.issues.out_of_fold_pred_probs`,
:func:`~label_quality.gold.gold_report`) assume clean inputs; a live project has classes nobody
chose yet (no ties so far), labels ticked once, and gold answers that are sets of labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from label_quality._validation import BoolArray, FloatArray, as_multilabel_ratings, check_rng
from label_quality.gold import GoldReport, gold_report
from label_quality.issues import Features, default_classifier, out_of_fold_pred_probs

# The probability given to a class nobody chose: small, but not 0 (log losses stay finite).
ABSENT_CLASS_PROB = 1e-6


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold probabilities of one labeling.

    ``pred_probs``: ``(n_items, n_classes)`` rows summing to 1, or None when there is too little
    to train on (``skipped`` says why). ``n_folds``: the folds used (0 when skipped).
    """

    pred_probs: FloatArray | None
    n_folds: int
    skipped: str | None = None


@dataclass(frozen=True)
class MultilabelOutOfFold:
    """Per label: out-of-fold probability that it is present.

    ``pred_probs``: ``(n_items, n_labels)``; ``from_model``: ``(n_labels,)`` True where a model
    was trained, False where the label had too few positives (or negatives) and its smoothed
    base rate stands in.
    """

    pred_probs: FloatArray
    from_model: BoolArray


def out_of_fold_where_trainable(
    features: Features,
    labels: npt.ArrayLike,
    n_classes: int,
    *,
    rng: np.random.Generator,
    n_folds: int = 5,
) -> OutOfFold:
    """Class probabilities for every item from a model that never saw that item's label.

    Classes given to at least two items are trainable: their items get out-of-fold
    probabilities (fewer folds when the rarest trainable class has fewer items than
    ``n_folds``). Items of a class given only once (say the one ``tie`` so far) are predicted by
    the model trained on all trainable items, which did not see them either. A class no model
    learned gets :data:`ABSENT_CLASS_PROB` (rows renormalised). Skipped (``pred_probs`` None)
    when fewer than two classes are trainable.

    Args:
        features: ``(n_items, n_features)``.
        labels: ``(n_items,)`` codes ``0..n_classes-1``.
        n_classes: number of classes.
        rng: seeded generator.
        n_folds: the most folds to use (>= 2).
    """
    rng = check_rng(rng)
    codes = np.asarray(labels, dtype=np.int64)
    if codes.ndim != 1 or (codes.size and (codes.min() < 0 or codes.max() >= n_classes)):
        raise ValueError(f"labels must be a 1-D array of codes 0..{n_classes - 1}")
    counts = np.bincount(codes, minlength=n_classes)
    trainable = np.flatnonzero(counts >= 2)
    if trainable.size < 2:
        return OutOfFold(None, 0, "fewer than two classes with two or more labels each")
    remap = np.full(n_classes, -1)
    remap[trainable] = np.arange(trainable.size)
    rows = np.flatnonzero(remap[codes] >= 0)
    rare = np.flatnonzero(remap[codes] < 0)
    X = features[rows] if rare.size else features
    folds = int(min(n_folds, counts[trainable].min()))
    full = np.full((codes.size, n_classes), ABSENT_CLASS_PROB)
    full[np.ix_(rows, trainable)] = out_of_fold_pred_probs(
        X, remap[codes[rows]], rng=rng, n_classes=trainable.size, n_folds=folds
    )
    if rare.size:
        model = default_classifier().fit(X, remap[codes[rows]])
        full[np.ix_(rare, trainable[model.classes_])] = model.predict_proba(features[rare])
    out: FloatArray = full / full.sum(axis=1, keepdims=True)
    return OutOfFold(out, folds)


def out_of_fold_per_label(
    features: Features,
    labels: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_folds: int = 5,
) -> MultilabelOutOfFold:
    """Per label, the out-of-fold probability that it is present (a binary model per label);
    the label's smoothed base rate ``(positives + 0.5) / (n + 1)`` where it has fewer than two
    positives or negatives.

    Args:
        features: ``(n_items, n_features)``.
        labels: ``(n_items, n_labels)`` 0/1.
    """
    rng = check_rng(rng)
    matrix = np.asarray(labels, dtype=np.int64)
    if matrix.ndim != 2 or not np.isin(matrix, (0, 1)).all():
        raise ValueError(f"labels must be a 2-D 0/1 array (n_items, n_labels); got shape {matrix.shape}")
    out = np.empty(matrix.shape, dtype=np.float64)
    from_model = np.zeros(matrix.shape[1], dtype=np.bool_)
    for j in range(matrix.shape[1]):
        column = matrix[:, j]
        positives = int(column.sum())
        smallest = min(positives, column.size - positives)
        if smallest >= 2:
            folds = min(n_folds, smallest)
            out[:, j] = out_of_fold_pred_probs(features, column, rng=rng, n_classes=2, n_folds=folds)[:, 1]
            from_model[j] = True
        else:
            out[:, j] = (positives + 0.5) / (column.size + 1.0)
    return MultilabelOutOfFold(out, from_model)


def label_set_gold_report(
    ratings: npt.ArrayLike,
    gold: npt.ArrayLike,
    *,
    threshold: float,
    min_answers: int,
) -> GoldReport | None:
    """Gold accuracy on whole label sets: an annotator is right on a gold item when the set of
    labels they ticked equals the gold set. None when no item has a gold answer.

    Args:
        ratings: ``(n_items, n_annotators, n_labels)`` 0/1, NaN where the annotator did not rate.
        gold: ``(n_items, n_labels)`` 0/1 gold label set, a row of NaN for items without gold.
    """
    values = as_multilabel_ratings(ratings)
    known = np.asarray(gold, dtype=np.float64)
    if known.shape != (values.shape[0], values.shape[2]):
        raise ValueError(f"gold must have shape {(values.shape[0], values.shape[2])}, got {known.shape}")
    has_gold = ~np.isnan(known).any(axis=1)
    if not has_gold.any():
        return None
    # Each distinct label set is one category.
    sets: dict[tuple[int, ...], int] = {}
    pooled = np.full(values.shape[:2], np.nan)
    for i in range(values.shape[0]):
        for a in range(values.shape[1]):
            if not np.isnan(values[i, a, 0]):
                key = tuple(np.flatnonzero(values[i, a] == 1).tolist())
                pooled[i, a] = sets.setdefault(key, len(sets))
    gold_codes = np.full(values.shape[0], np.nan)
    for i in np.flatnonzero(has_gold):
        key = tuple(np.flatnonzero(known[i] == 1).tolist())
        gold_codes[i] = sets.setdefault(key, len(sets))
    return gold_report(
        pooled, gold_codes, n_categories=max(len(sets), 2), threshold=threshold, min_answers=min_answers
    )
