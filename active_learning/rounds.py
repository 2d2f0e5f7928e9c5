"""One active-learning round in three steps over arrays: fit and predict, query, evaluate.

:func:`run_round` checks its inputs (:mod:`.round_inputs`) before any work and composes the
steps; each step re-checks what it reads (cheap, no copies of checked arrays), so it can be run
or tested alone::

    fitted = fit_and_predict(labeled, pool, rng, options=..., fit_model=..., fit_committee=...)
    queried = query_pool(fitted, labeled, pool, strategy, k, rng, options=...)
    evaluation = evaluate_model(fitted.model, validation, options=...)

Each step is a function of its inputs and the ``rng`` it is handed (apart from the wall-clock
timings it reports); the rng is consumed in that order (committee bootstrap, then the strategy's
score, then its selection), so a stored seed replays a round exactly.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .audit import audit_count, with_audit_slice
from .classifiers import Model, Task, make_model, pair_features
from .errors import InvalidInputError, NotEnoughLabelsError
from .metrics import ThresholdChoice, binary_metrics, choose_threshold, multilabel_metrics, preference_metrics
from .readiness import Readiness, assess
from .round_inputs import LabeledSet, Pool, RoundOptions, ValidationSlice, check_round_data, check_validation
from .strategies import PoolView, Strategy, cold_start_names, get_strategy
from .validation import check_k, check_rng


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
    strategy / requested_strategy: the strategy that selected and the one asked for (they differ
    when the model showed no signal and the round fell back, see ``fallback_reason``).
    readiness: the model against its baseline (None when the round had no gate).
    audit: (k,) which of ``positions`` are audit items (drawn uniformly from the pool).
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
    requested_strategy: str = ""
    readiness: Readiness | None = None
    fallback_reason: str = ""
    audit: NDArray[np.bool_] | None = None


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
    model_params: Mapping[str, Any] | None = None,
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


@dataclass(frozen=True)
class Fitted:
    """Outcome of :func:`fit_and_predict`: the model (None if none was fitted), its pool
    probabilities (n_pool, c) or (n_pool, L), the committee's (n_members, n_pool, c|L), the labels
    the model could only learn a prior for, and seconds per phase (fit, predict, committee)."""

    model: Model | None
    pool_proba: NDArray[np.float64] | None
    committee_proba: NDArray[np.float64] | None
    prior_only_labels: list[int]
    timings: dict[str, float]


def fit_and_predict(
    labeled: LabeledSet,
    pool: Pool,
    rng: np.random.Generator,
    *,
    options: RoundOptions,
    fit_model: bool,
    fit_committee: bool,
) -> Fitted:
    """Step 1: fit the task's model on ``labeled`` (if ``fit_model`` and there are labels) and a
    bootstrap committee (if ``fit_committee``; consumes ``rng``), and predict the pool."""
    labeled, pool = check_round_data(labeled, pool, options.task)
    check_rng(rng)
    timings: dict[str, float] = {}
    model: Model | None = None
    pool_proba: NDArray[np.float64] | None = None
    committee: NDArray[np.float64] | None = None
    prior_only: list[int] = []
    params = dict(options.model_params or {})
    if fit_model and labeled.n:
        t = time.perf_counter()
        model = make_model(options.task, n_classes=options.n_classes, **params)
        model.fit(labeled.features, labeled.labels)
        prior_only = list(getattr(model, "prior_only_labels", []))
        timings["fit"] = time.perf_counter() - t
        t = time.perf_counter()
        pool_proba = model.predict_proba(pool.features)
        timings["predict"] = time.perf_counter() - t
    if fit_committee:
        t = time.perf_counter()
        committee = committee_proba(labeled, pool, rng, options=options)
        timings["committee"] = time.perf_counter() - t
    return Fitted(model, pool_proba, committee, prior_only, timings)


def committee_proba(
    labeled: LabeledSet, pool: Pool, rng: np.random.Generator, *, options: RoundOptions
) -> NDArray[np.float64]:
    """The bootstrap committee's predictions on the pool (consumes ``rng``)."""
    return bootstrap_committee_proba(
        options.task,
        labeled.features,
        labeled.labels,
        pool.features,
        n_members=options.committee_size,
        rng=rng,
        n_classes=options.n_classes,
        model_params=dict(options.model_params or {}),
    )


@dataclass(frozen=True)
class Queried:
    """Outcome of :func:`query_pool`: positions (k,) best first, scores (n_pool,), and seconds
    per phase (score, select)."""

    positions: NDArray[np.intp]
    scores: NDArray[np.float64]
    timings: dict[str, float]


def pool_view(
    fitted: Fitted, labeled: LabeledSet, pool: Pool, strategy: Strategy, options: RoundOptions
) -> PoolView:
    """What ``strategy`` sees of the pool: the fitted probabilities, and the features (as pair
    features for preference) only when it asks for them."""
    features: Any = None
    labeled_features: Any = None
    prompts: Any = None
    if "prompt_features" in strategy.requires:
        prompts = prompt_features(pool.features, options.task)
    if "features" in strategy.requires:
        pairs = options.task == "preference"
        features = pair_features(pool.features, False) if pairs else pool.features
        if labeled.n:
            labeled_features = pair_features(labeled.features, False) if pairs else labeled.features
    return PoolView(
        n=int(pool.features.shape[0]),
        task=options.task,
        proba=fitted.pool_proba,
        committee_proba=fitted.committee_proba,
        features=features,
        labeled_features=labeled_features,
        texts=pool.texts,
        annotations=pool.annotations,
        multilabel_aggregate=options.multilabel_aggregate,
        max_annotations=pool.max_annotations,
        keywords=options.keywords,
        vote_counts=None if pool.vote_counts is None else np.asarray(pool.vote_counts, dtype=np.float64),
        prompt_features=prompts,
        gold=None if pool.gold is None else np.asarray(pool.gold, dtype=bool),
        gold_share=options.gold_share,
        min_annotations=pool.min_annotations,
    )


def prompt_features(features: Any, task: Task) -> Any:
    """What an item asks, for prompt diversity: a pair's prompt embedding (slot 2 of (n, 3, d));
    a pair without one: the mean of its responses; any other item: its own features (n, d)."""
    if task != "preference":
        return features
    if features.shape[1] == 3:
        return features[:, 2]
    return (np.asarray(features[:, 0], dtype=np.float32) + np.asarray(features[:, 1], dtype=np.float32)) / 2


def query_pool(
    fitted: Fitted,
    labeled: LabeledSet,
    pool: Pool,
    strategy: Strategy,
    k: int,
    rng: np.random.Generator,
    *,
    options: RoundOptions,
) -> Queried:
    """Step 2: the strategy's score for every pool item, then its ``k`` positions (both consume
    ``rng``, in that order)."""
    labeled, pool = check_round_data(labeled, pool, options.task)
    check_k(k, int(pool.features.shape[0]))
    check_rng(rng)
    view = pool_view(fitted, labeled, pool, strategy, options)
    t = time.perf_counter()
    scores = strategy.score(view, rng)
    timings = {"score": time.perf_counter() - t}
    t = time.perf_counter()
    positions = strategy.select(scores, k, rng, view)
    timings["select"] = time.perf_counter() - t
    return Queried(positions, scores, timings)


@dataclass(frozen=True)
class Evaluation:
    """Outcome of :func:`evaluate_model`: validation metrics, the cost-based threshold (binary
    tasks with a positive in the slice), and seconds spent (metrics)."""

    metrics: dict[str, float] = field(default_factory=dict)
    threshold: ThresholdChoice | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _metrics(
    task: Task, P: NDArray[np.float64], y: NDArray[Any], options: RoundOptions
) -> tuple[dict[str, float], ThresholdChoice | None]:
    if task == "binary":
        metrics = binary_metrics(y, P[:, 1])
        if y.any():
            choice = choose_threshold(y, P[:, 1], cost_fp=options.cost_fp, cost_fn=options.cost_fn)
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
        names = None if options.label_names is None else list(options.label_names)
        return multilabel_metrics(y, P, names), None
    return preference_metrics(y, P[:, 1]), None


def evaluate_model(
    model: Model | None, validation: ValidationSlice | None, *, options: RoundOptions
) -> Evaluation:
    """Step 3: the model's metrics on the validation slice and, for binary tasks, the threshold
    that minimises ``cost_fp * FP + cost_fn * FN``. Empty without a model or a slice."""
    if model is None or validation is None:
        return Evaluation()
    t = time.perf_counter()
    validation = check_validation(validation, options.task)
    metrics, threshold = _metrics(
        options.task, model.predict_proba(validation.features), validation.labels, options
    )
    return Evaluation(metrics, threshold, {"metrics": time.perf_counter() - t})


def run_round(
    labeled: LabeledSet,
    pool: Pool,
    strategy: str | Strategy,
    k: int,
    rng: np.random.Generator,
    *,
    validation: ValidationSlice | None = None,
    options: RoundOptions | None = None,
) -> RoundResult:
    """Train on the labeled set, score every pool item, select ``k`` positions, evaluate.

    Shapes: see :class:`LabeledSet`, :class:`Pool`, :class:`ValidationSlice` (the pool's
    annotated rows may also appear in the labeled set). A model is trained when the strategy
    needs one or a validation slice is given and there is at least one label. Strategies that
    need a model raise :class:`NotEnoughLabelsError` on an empty labeled set; use a cold-start
    strategy (``seed_keyword``, ``seed_stratified``, ``random``, ``coreset``) for the first round.

    With ``options.fallback`` (a model-free strategy) the round is gated: its model is compared
    with the task's baseline (:func:`active_learning.readiness.assess`, on the validation slice or
    out of fold) and a model-based strategy whose model shows no signal gives way to the
    fallback (``strategy`` then names the fallback, ``requested_strategy`` the one asked for).
    With ``options.audit_share`` a random share of the batch is drawn uniformly from the pool
    (``audit`` marks them). Neither consumes ``rng``: with a signal and no audit share the
    selection is the ungated one.
    """
    t_start = time.perf_counter()
    options = options or RoundOptions()
    check_rng(rng)
    strat = get_strategy(strategy) if isinstance(strategy, str) else strategy
    labeled, pool = check_round_data(labeled, pool, options.task)
    check_k(k, int(pool.features.shape[0]))
    fallback = _fallback(options)
    if strat.needs_model and labeled.n == 0 and fallback is None:
        raise NotEnoughLabelsError(
            f"strategy {strat.name!r} needs a trained model but there are no labels; "
            f"start with one of: {', '.join(cold_start_names())}"
        )
    if validation is not None:
        validation = check_validation(validation, options.task)
    # Readiness and the audit slice draw from a generator of their own, so the selection
    # consumes ``rng`` exactly as a round without them does.
    aux = rng.spawn(1)[0]

    fitted = fit_and_predict(
        labeled,
        pool,
        rng,
        options=options,
        fit_model=strat.needs_model or validation is not None or (fallback is not None and labeled.n > 0),
        fit_committee=False,
    )
    readiness: Readiness | None = None
    used, reason = strat, ""
    if fallback is not None:
        t = time.perf_counter()
        readiness = assess(
            options.task,
            fitted.model,
            aux,
            validation=None if validation is None else (validation.features, validation.labels),
            labeled=(labeled.features, labeled.labels) if labeled.n else None,
            model_params=dict(options.model_params or {}),
        )
        fitted.timings["readiness"] = time.perf_counter() - t
        if strat.needs_model and not readiness.signal:
            used = fallback
            reason = f"{strat.name} needs a model that beats its baseline; {readiness.reason}"
    if "committee_proba" in used.requires:
        t = time.perf_counter()
        committee = committee_proba(labeled, pool, rng, options=options)
        fitted.timings["committee"] = time.perf_counter() - t
        fitted = Fitted(fitted.model, fitted.pool_proba, committee, fitted.prior_only_labels, fitted.timings)
    queried = query_pool(fitted, labeled, pool, used, k, rng, options=options)
    positions, audit = queried.positions, None
    if options.audit_share > 0:
        positions, audit = with_audit_slice(
            queried.positions, queried.scores, audit_count(k, options.audit_share, aux), aux
        )
    evaluation = evaluate_model(fitted.model, validation, options=options)

    timings = {**fitted.timings, **queried.timings, **evaluation.timings}
    timings["total"] = time.perf_counter() - t_start
    return RoundResult(
        strategy=used.name,
        positions=positions,
        scores=queried.scores,
        pool_proba=fitted.pool_proba,
        metrics=evaluation.metrics,
        threshold=evaluation.threshold,
        timings=timings,
        model=fitted.model,
        prior_only_labels=fitted.prior_only_labels,
        requested_strategy=strat.name,
        readiness=readiness,
        fallback_reason=reason,
        audit=audit,
    )


def _fallback(options: RoundOptions) -> Strategy | None:
    """The gate's model-free strategy, checked: registered, needing no model, for the task."""
    if options.fallback is None:
        return None
    fallback = get_strategy(options.fallback)
    if fallback.needs_model or options.task not in fallback.tasks:
        valid = [n for n in cold_start_names() if options.task in get_strategy(n).tasks]
        raise InvalidInputError(
            f"fallback strategy {fallback.name!r} must work without a model on {options.task!r}; "
            f"valid: {', '.join(valid)}"
        )
    return fallback
