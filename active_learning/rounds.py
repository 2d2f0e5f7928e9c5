"""One active-learning round as a pure function: train, score the pool, select, evaluate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .classifiers import TASKS, Model, Task, make_model, pair_features
from .errors import InvalidInputError, NotEnoughLabelsError
from .metrics import ThresholdChoice, binary_metrics, choose_threshold, multilabel_metrics, preference_metrics
from .scores import Aggregate
from .strategies import DEFAULT_KEYWORDS, PoolView, Strategy, cold_start_names, get_strategy
from .validation import as_2d_float, check_k, check_rng, check_same_rows, shape_of


@dataclass(frozen=True)
class RoundResult:
    """Outcome of :func:`run_round`.

    positions: (k,) pool positions to send for labeling, best first.
    scores: (n_pool,) priority of every pool item (higher = sooner; -inf = ineligible), so the
        whole queue can be ordered (Label Studio's uncertainty sampling serves *lowest* score
        first: push ``-scores``).
    pool_proba: (n_pool, c) class probabilities, (n_pool, L) per-label probabilities, or None if
        no model was trained (cold start).
    metrics: validation metrics (empty without a validation slice).
    threshold: cost-based decision threshold for binary tasks with a validation slice.
    timings: seconds per phase (fit, predict, committee, score, select, metrics, total).
    """

    strategy: str
    positions: NDArray[np.intp]
    scores: NDArray[np.float64]
    pool_proba: NDArray[np.float64] | None
    metrics: dict[str, float]
    threshold: ThresholdChoice | None
    timings: dict[str, float]
    model: Model | None = None
    prior_only_labels: list[int] = field(default_factory=list)


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


def _bootstrap_rows(y: NDArray[Any], task: Task, rng: np.random.Generator) -> NDArray[np.intp]:
    """Bootstrap sample; stratified by class for single-label tasks so every member sees each class."""
    n = y.shape[0]
    if task in ("binary", "multiclass"):
        parts = [
            rng.choice(np.nonzero(y == c)[0], size=int(np.sum(y == c)), replace=True) for c in np.unique(y)
        ]
        rows: NDArray[np.intp] = np.concatenate(parts).astype(np.intp)
        return rows
    return rng.integers(0, n, size=n).astype(np.intp)


def bootstrap_committee_proba(
    task: Task,
    X_labeled: Any,
    y_labeled: Any,
    X_pool: Any,
    *,
    n_members: int,
    rng: np.random.Generator,
    n_classes: int = 2,
    model_params: dict[str, Any] | None = None,
) -> NDArray[np.float64]:
    """Fit ``n_members`` models on bootstrap resamples (query-by-bagging) and predict the pool.

    Returns (n_members, n_pool, c) for single-label/preference, (n_members, n_pool, L) per-label
    probabilities for multilabel.
    """
    if n_members < 2:
        raise InvalidInputError(f"a committee needs n_members >= 2; got {n_members}")
    y = np.asarray(y_labeled)
    out = []
    for _ in range(n_members):
        rows = _bootstrap_rows(y, task, rng)
        model = make_model(task, n_classes=n_classes, **(model_params or {}))
        model.fit(X_labeled[rows], y[rows])
        out.append(model.predict_proba(X_pool))
    return np.stack(out)


def _evaluate(
    task: Task,
    model: Model,
    X_val: Any,
    y_val: Any,
    label_names: list[str] | None,
    cost_fp: float,
    cost_fn: float,
) -> tuple[dict[str, float], ThresholdChoice | None]:
    P = model.predict_proba(X_val)
    y = np.asarray(y_val)
    if task == "binary":
        metrics = binary_metrics(y, P[:, 1])
        if y.any():
            choice = choose_threshold(y, P[:, 1], cost_fp=cost_fp, cost_fn=cost_fn)
            at = binary_metrics(y, P[:, 1], choice.threshold)
            metrics["f1_at_cost_threshold"] = at["f1"]
            return metrics, choice
        return metrics, None
    if task == "multiclass":
        pred = np.argmax(P, axis=1)
        from sklearn.metrics import f1_score  # type: ignore[import-untyped,unused-ignore]

        return {
            "accuracy": float(np.mean(pred == y)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        }, None
    if task == "multilabel":
        return multilabel_metrics(y, P, label_names), None
    return preference_metrics(y, P[:, 1]), None


def run_round(
    features_labeled: Any,
    labels: Any,
    features_pool: Any,
    strategy: str | Strategy,
    k: int,
    rng: np.random.Generator,
    *,
    task: Task = "binary",
    n_classes: int = 2,
    texts_pool: Sequence[str] | None = None,
    annotations_pool: Any = None,
    max_annotations: int | None = None,
    features_val: Any = None,
    labels_val: Any = None,
    label_names: list[str] | None = None,
    committee_size: int = 5,
    model_params: dict[str, Any] | None = None,
    multilabel_aggregate: Aggregate = "max",
    keywords: Sequence[str] = DEFAULT_KEYWORDS,
    cost_fp: float = 1.0,
    cost_fn: float = 1.0,
) -> RoundResult:
    """Train on the labeled set, score every pool item, select ``k`` positions, evaluate.

    Shapes: features_labeled (n_labeled, d) — (n_labeled, 2|3, d) for preference pairs;
    labels (n_labeled,) class ids / {0, 0.5, 1} for preference, or (n_labeled, L) 0/1 for
    multilabel; features_pool (n_pool, d) (float16 / memmap fine: predicted in chunks);
    texts_pool (n_pool,) for keyword seeding; annotations_pool (n_pool, n_annotators) class ids
    with NaN gaps for ``activelab`` (its labeled rows may also appear in features_labeled);
    features_val / labels_val: a fixed validation slice for metrics and the cost threshold.

    A model is trained when the strategy needs one or a validation slice is given and there is
    at least one label. Strategies that need a model raise :class:`NotEnoughLabelsError` on an
    empty labeled set; use a cold-start strategy (``seed_keyword``, ``seed_stratified``,
    ``random``, ``coreset``) for the first round.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    if task not in TASKS:
        raise InvalidInputError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    check_rng(rng)
    strat = get_strategy(strategy) if isinstance(strategy, str) else strategy
    X_pool = _check_features(features_pool, "features_pool", task, allow_empty=False)
    X_lab = _check_features(features_labeled, "features_labeled", task, allow_empty=True)
    y_lab = np.asarray(labels)
    check_same_rows(X_lab, y_lab, "features_labeled", "labels")
    if X_lab.shape[0] and X_lab.shape[1:] != X_pool.shape[1:]:
        raise InvalidInputError(
            f"features_labeled {shape_of(X_lab)} and features_pool {shape_of(X_pool)} differ in feature shape"
        )
    n = int(X_pool.shape[0])
    check_k(k, n)
    has_val = features_val is not None and labels_val is not None
    n_labeled = int(X_lab.shape[0])
    if strat.needs_model and n_labeled == 0:
        raise NotEnoughLabelsError(
            f"strategy {strat.name!r} needs a trained model but there are no labels; "
            f"start with one of: {', '.join(cold_start_names())}"
        )

    model: Model | None = None
    pool_proba: NDArray[np.float64] | None = None
    committee: NDArray[np.float64] | None = None
    prior_only: list[int] = []
    if n_labeled and (strat.needs_model or has_val):
        t = time.perf_counter()
        model = make_model(task, n_classes=n_classes, **(model_params or {}))
        model.fit(X_lab, y_lab)
        prior_only = list(getattr(model, "prior_only_labels", []))
        timings["fit"] = time.perf_counter() - t
        t = time.perf_counter()
        pool_proba = model.predict_proba(X_pool)
        timings["predict"] = time.perf_counter() - t
    if "committee_proba" in strat.requires:
        t = time.perf_counter()
        committee = bootstrap_committee_proba(
            task,
            X_lab,
            y_lab,
            X_pool,
            n_members=committee_size,
            rng=rng,
            n_classes=n_classes,
            model_params=model_params,
        )
        timings["committee"] = time.perf_counter() - t

    view_features: Any = None
    labeled_view: Any = None
    if "features" in strat.requires:
        view_features = pair_features(X_pool, False) if task == "preference" else X_pool
        if n_labeled:
            labeled_view = pair_features(X_lab, False) if task == "preference" else X_lab
    annotations = None if annotations_pool is None else np.asarray(annotations_pool, dtype=np.float64)
    view = PoolView(
        n=n,
        task=task,
        proba=pool_proba,
        committee_proba=committee,
        features=view_features,
        labeled_features=labeled_view,
        texts=texts_pool,
        annotations=annotations,
        multilabel_aggregate=multilabel_aggregate,
        max_annotations=max_annotations,
        keywords=keywords,
    )
    t = time.perf_counter()
    scores = strat.score(view, rng)
    timings["score"] = time.perf_counter() - t
    t = time.perf_counter()
    positions = strat.select(scores, k, rng, view)
    timings["select"] = time.perf_counter() - t

    metrics: dict[str, float] = {}
    threshold: ThresholdChoice | None = None
    if has_val and model is not None:
        t = time.perf_counter()
        X_val = _check_features(features_val, "features_val", task, allow_empty=False)
        check_same_rows(X_val, np.asarray(labels_val), "features_val", "labels_val")
        metrics, threshold = _evaluate(task, model, X_val, labels_val, label_names, cost_fp, cost_fn)
        timings["metrics"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_start
    return RoundResult(
        strategy=strat.name,
        positions=positions,
        scores=scores,
        pool_proba=pool_proba,
        metrics=metrics,
        threshold=threshold,
        timings=timings,
        model=model,
        prior_only_labels=prior_only,
    )
