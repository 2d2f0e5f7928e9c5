"""Find probably-wrong labels with cleanlab on out-of-fold predicted probabilities.

The flow the app runs per project: features (``(n_items, n_features)`` embeddings the
caller computed) + current labels (consensus or single annotations) ->
:func:`out_of_fold_pred_probs` (each item predicted by a model that never saw it) ->
:func:`find_label_issues` / :func:`find_multilabel_issues` /
:func:`find_preference_issues`. All results are positions into the caller's arrays.

Score convention everywhere: ``quality`` in [0, 1], **higher = label more likely
correct**; issues and rankings are ordered worst (lowest quality) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from cleanlab.filter import (  # type: ignore[import-untyped, unused-ignore]
    find_label_issues as _cl_find_label_issues,
)
from cleanlab.multilabel_classification import (  # type: ignore[import-untyped, unused-ignore]
    get_label_quality_scores as _cl_multilabel_quality,
)
from cleanlab.multilabel_classification.filter import (  # type: ignore[import-untyped, unused-ignore]
    find_label_issues as _cl_find_multilabel_issues,
)
from cleanlab.multilabel_classification.filter import (
    find_multilabel_issues_per_class as _cl_multilabel_per_class,
)
from cleanlab.rank import (  # type: ignore[import-untyped, unused-ignore]
    get_label_quality_scores as _cl_quality,
)
from sklearn.base import clone  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import (  # type: ignore[import-untyped, unused-ignore]
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)

from label_quality._validation import (
    BoolArray,
    FloatArray,
    IntArray,
    as_binary_matrix,
    as_label_vector,
    as_pred_probs,
    check_rng,
)
from label_quality.ratings import PREFERENCE_TIE

# Features may be a dense array or a scipy.sparse matrix (hashed TF-IDF); scipy ships
# no complete stubs, so this stays Any and is checked at runtime by its shape.
Features = Any
FilterBy = Literal[
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given"
]


@dataclass(frozen=True)
class LabelIssues:
    """Label issues of ``n_items`` labels.

    Attributes:
        positions: ``(n_issues,)`` positions cleanlab flags, lowest quality first.
        quality: ``(n_items,)`` label quality score in [0, 1], higher = more likely
            correct (NaN for items that were not scored, e.g. ties dropped from a
            preference set).
        is_issue: ``(n_items,)`` boolean mask of the flagged positions.
        ranking: ``(n_scored,)`` every scored position, lowest quality first (ties by
            position), for "review the worst k" queues regardless of the flag.
    """

    positions: IntArray
    quality: FloatArray
    is_issue: BoolArray
    ranking: IntArray

    def top_k(self, k: int) -> IntArray:
        """The ``k`` lowest-quality positions (``(min(k, n_scored),)``)."""
        if k < 0:
            raise ValueError(f"k must be >= 0; got {k}")
        return self.ranking[:k]


def _rank(quality: FloatArray) -> IntArray:
    scored = np.flatnonzero(~np.isnan(quality))
    return scored[np.argsort(quality[scored], kind="stable")].astype(np.int64)


def _package(is_issue: BoolArray, quality: FloatArray) -> LabelIssues:
    ranking = _rank(quality)
    positions = ranking[is_issue[ranking]]
    return LabelIssues(positions=positions, quality=quality, is_issue=is_issue, ranking=ranking)


def _n_rows(features: Features) -> int:
    shape = getattr(features, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(
            f"features must be 2-D (n_items, n_features), dense or scipy.sparse; got shape {shape}"
        )
    return int(shape[0])


def default_classifier() -> Any:
    """Logistic regression with balanced class weights (toxic labels are rare)."""
    return LogisticRegression(class_weight="balanced", max_iter=2000)


def out_of_fold_pred_probs(
    features: Features,
    labels: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_classes: int | None = None,
    n_folds: int = 5,
    classifier: Any | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Out-of-fold class probabilities via ``sklearn.model_selection.cross_val_predict``.

    Folds are stratified by label (``StratifiedKFold``, shuffled with a seed drawn from
    ``rng``); pass ``groups`` (e.g. template or thread ids) to keep near-duplicates in
    one fold (``StratifiedGroupKFold``), otherwise their probabilities are optimistic.

    Args:
        features: ``(n_items, n_features)`` dense array or scipy.sparse matrix.
        labels: ``(n_items,)`` codes ``0..n_classes-1``; every class needs at least
            ``n_folds`` items.
        rng: seeded ``numpy.random.Generator``; same seed -> same probabilities.
        n_classes: number of classes (default: max code + 1).
        n_folds: number of folds (>= 2).
        classifier: unfitted scikit-learn classifier with ``predict_proba``
            (default :func:`default_classifier`); it is cloned, never mutated.
        groups: optional ``(n_items,)`` group ids.

    Returns:
        ``(n_items, n_classes)`` probabilities, rows summing to 1.
    """
    rng = check_rng(rng)
    codes, k = as_label_vector(labels, n_classes)
    n = _n_rows(features)
    if codes.shape[0] != n:
        raise ValueError(f"features have {n} rows but labels have shape {codes.shape}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2; got {n_folds}")
    per_class = np.bincount(codes, minlength=k)
    if per_class.min() < n_folds:
        raise ValueError(
            f"every class needs >= n_folds={n_folds} items for stratified folds; "
            f"class counts are {per_class.tolist()}"
        )
    seed = int(rng.integers(2**31 - 1))
    model = clone(default_classifier() if classifier is None else classifier)
    group_array = None
    if groups is None:
        cv: Any = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        group_array = np.asarray(groups)
        if group_array.shape != (n,):
            raise ValueError(f"groups must have shape ({n},); got {group_array.shape}")
        cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    probs = cross_val_predict(model, features, codes, cv=cv, groups=group_array, method="predict_proba")
    return np.asarray(probs, dtype=np.float64)


def out_of_fold_pred_probs_multilabel(
    features: Features,
    labels: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_folds: int = 5,
    classifier: Any | None = None,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Out-of-fold probability of each label (one binary model per label).

    Args:
        features: ``(n_items, n_features)`` dense or scipy.sparse.
        labels: ``(n_items, n_labels)`` 0/1; each label needs >= ``n_folds`` positives
            and negatives.
        rng, n_folds, classifier, groups: as in :func:`out_of_fold_pred_probs`; one
            seed is drawn from ``rng`` and shared by all labels.

    Returns:
        ``(n_items, n_labels)`` probability that each label applies (rows need not sum
        to 1).
    """
    rng = check_rng(rng)
    matrix = as_binary_matrix(labels)
    seed = int(rng.integers(2**31 - 1))
    columns = []
    for j in range(matrix.shape[1]):
        try:
            probs = out_of_fold_pred_probs(
                features,
                matrix[:, j],
                rng=np.random.default_rng(seed),
                n_classes=2,
                n_folds=n_folds,
                classifier=classifier,
                groups=groups,
            )
        except ValueError as exc:
            raise ValueError(f"label column {j}: {exc}") from exc
        columns.append(probs[:, 1])
    return np.column_stack(columns)


def find_label_issues(
    labels: npt.ArrayLike,
    pred_probs: npt.ArrayLike,
    *,
    filter_by: FilterBy = "prune_by_noise_rate",
    rank_by: Literal[
        "self_confidence", "normalized_margin", "confidence_weighted_entropy"
    ] = "self_confidence",
) -> LabelIssues:
    """Binary / multi-class label issues (``cleanlab.filter.find_label_issues``).

    Args:
        labels: ``(n_items,)`` given codes.
        pred_probs: ``(n_items, n_classes)`` out-of-fold probabilities.
        filter_by: cleanlab's flagging rule.
        rank_by: cleanlab's ``rank.get_label_quality_scores`` method.

    Returns:
        :class:`LabelIssues`.
    """
    probs = np.asarray(pred_probs, dtype=np.float64)
    width = probs.shape[1] if probs.ndim == 2 else None
    codes, k = as_label_vector(labels, width)
    probs = as_pred_probs(probs, codes.shape[0], k)
    is_issue = np.asarray(_cl_find_label_issues(codes, probs, filter_by=filter_by, n_jobs=1), dtype=np.bool_)
    quality = np.asarray(_cl_quality(codes, probs, method=rank_by), dtype=np.float64)
    return _package(is_issue, quality)


@dataclass(frozen=True)
class MultilabelIssues:
    """Multi-label issues: per item (any label wrong) and per (item, label).

    ``items``: :class:`LabelIssues` over items (``quality`` from cleanlab's multi-label
    score aggregated over labels). ``per_label_is_issue``: ``(n_items, n_labels)``
    mask, True where that label of that item looks wrong.
    """

    items: LabelIssues
    per_label_is_issue: BoolArray


def find_multilabel_issues(
    labels: npt.ArrayLike,
    pred_probs: npt.ArrayLike,
    *,
    filter_by: FilterBy = "prune_by_noise_rate",
) -> MultilabelIssues:
    """Multi-label issues (``cleanlab.multilabel_classification.filter.find_label_issues``).

    This is cleanlab's multi-label path (``cleanlab.filter.find_label_issues(...,
    multi_label=True)`` is its deprecated alias): one-vs-rest confident learning per
    label, an item flagged when any of its labels looks wrong.

    Args:
        labels: ``(n_items, n_labels)`` 0/1 given labels (an all-zero row means
            "clean", which cleanlab represents as an empty label list).
        pred_probs: ``(n_items, n_labels)`` out-of-fold probability of each label
            (e.g. :func:`out_of_fold_pred_probs_multilabel`).

    Returns:
        :class:`MultilabelIssues`.
    """
    matrix = as_binary_matrix(labels)
    probs = as_pred_probs(pred_probs, matrix.shape[0], matrix.shape[1], rows_sum_to_one=False)
    if matrix.shape[1] < 2:
        raise ValueError(f"multi-label needs >= 2 labels; got shape {matrix.shape} (use find_label_issues)")
    label_lists = [np.flatnonzero(row).tolist() for row in matrix]
    is_issue = np.asarray(
        _cl_find_multilabel_issues(label_lists, probs, filter_by=filter_by, n_jobs=1),
        dtype=np.bool_,
    )
    quality = np.asarray(_cl_multilabel_quality(label_lists, probs), dtype=np.float64)
    per_class = _cl_multilabel_per_class(label_lists, probs, filter_by=filter_by, n_jobs=1)
    per_label = np.asarray(per_class, dtype=np.bool_)
    if per_label.shape != matrix.shape:
        # Documented as a list of K masks over items; 2.9 returns (n_items, K).
        per_label = per_label.T
    return MultilabelIssues(items=_package(is_issue, quality), per_label_is_issue=per_label)


def find_preference_issues(
    labels: npt.ArrayLike,
    pred_probs: npt.ArrayLike,
    *,
    mode: Literal["three_class", "drop_ties"] = "three_class",
    filter_by: FilterBy = "prune_by_noise_rate",
) -> LabelIssues:
    """Label issues for preference pairs (0 = A, 1 = B, 2 = tie).

    ``mode="three_class"`` (default): A / B / tie are three classes, because "tie" is
    an answer annotators give in our interface and a wrong tie is worth reviewing too.
    ``mode="drop_ties"``: pairs labelled tie are left out (quality NaN, never flagged)
    and A vs B is a binary problem; use it when the reward model is trained only on
    strict preferences. ``pred_probs`` may then be ``(n_items, 2)`` (A, B) or
    ``(n_items, 3)``, whose A / B columns are renormalised.

    Args:
        labels: ``(n_items,)`` codes 0/1/2.
        pred_probs: ``(n_items, 3)`` (or ``(n_items, 2)`` with ``drop_ties``).

    Returns:
        :class:`LabelIssues` whose positions index the full ``labels`` array.
    """
    codes, _ = as_label_vector(labels, 3)
    probs = np.asarray(pred_probs, dtype=np.float64)
    if mode == "three_class":
        return find_label_issues(codes, as_pred_probs(probs, codes.shape[0], 3), filter_by=filter_by)
    if mode != "drop_ties":
        raise ValueError(f"mode must be 'three_class' or 'drop_ties'; got {mode!r}")
    if probs.ndim != 2 or probs.shape[0] != codes.shape[0] or probs.shape[1] not in (2, 3):
        raise ValueError(
            f"pred_probs must have shape ({codes.shape[0]}, 2) or ({codes.shape[0]}, 3); got {probs.shape}"
        )
    keep = np.flatnonzero(codes != PREFERENCE_TIE)
    ab = probs[keep, :2]
    ab = ab / np.clip(ab.sum(axis=1, keepdims=True), 1e-12, None)
    inner = find_label_issues(codes[keep], ab, filter_by=filter_by)
    quality = np.full(codes.shape[0], np.nan)
    quality[keep] = inner.quality
    is_issue = np.zeros(codes.shape[0], dtype=np.bool_)
    is_issue[keep] = inner.is_issue
    return _package(is_issue, quality)


def label_issues_from_features(
    features: Features,
    labels: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_classes: int | None = None,
    n_folds: int = 5,
    classifier: Any | None = None,
    groups: npt.ArrayLike | None = None,
    filter_by: FilterBy = "prune_by_noise_rate",
) -> LabelIssues:
    """:func:`out_of_fold_pred_probs` then :func:`find_label_issues` in one call.

    Args:
        features: ``(n_items, n_features)``; labels: ``(n_items,)``; the rest as in
            :func:`out_of_fold_pred_probs`.
    """
    probs = out_of_fold_pred_probs(
        features,
        labels,
        rng=rng,
        n_classes=n_classes,
        n_folds=n_folds,
        classifier=classifier,
        groups=groups,
    )
    return find_label_issues(labels, probs, filter_by=filter_by)
