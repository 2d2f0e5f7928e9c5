"""Model readiness: is the round's model better than the baseline it must beat?

A model-based strategy ranks the pool by what the model believes; when the model has learned
nothing (HH-RLHF preferences on frozen embeddings stay at chance), that ranking is noise. So a
round first compares its model with the no-skill baseline of its task, with a 95% interval, and
only a model whose interval clears the baseline may drive the selection:

- binary / multilabel: PR-AUC (macro over the labels with a positive) against the
  prior-predicting classifier's, which is the positive rate of the slice (a constant score ranks
  nothing, so its average precision is the share of positives). The interval is a paired
  percentile bootstrap of ``PR-AUC - positive rate`` over the slice's items.
- preference: accuracy on the decided pairs against chance (0.5), Wilson's interval.

The evidence is the validation slice when there is one, else out-of-fold predictions on the
labeled set (k-fold, the task's own model). :func:`assess` returns a :class:`Readiness`; its
``signal`` is True only when the interval's lower end of the gain lies above 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .classifiers import Model, Task, make_model
from .errors import InvalidInputError
from .evaluation import bootstrap_interval, wilson_interval
from .validation import check_rng

LEVEL = 0.95
RESAMPLES = 1000
# Out-of-fold evidence needs this many labels (fewer: no evidence, so no signal).
MIN_OUT_OF_FOLD = 10
FOLDS = 5
HEADLINE = {"binary": "pr_auc", "multilabel": "macro_pr_auc", "preference": "accuracy"}


@dataclass(frozen=True)
class Readiness:
    """signal: the model beats the baseline (the gain's interval lies above 0).

    metric: what was compared (``pr_auc``, ``macro_pr_auc``, ``accuracy``); value / baseline:
    the model's and the baseline's value on the evidence; gain_low / gain_high: the 95% interval
    of ``value - baseline``; evidence: ``validation``, ``out_of_fold`` or ``none``; n: items
    compared; method: how the interval was computed; reason: one sentence for the round record.
    """

    signal: bool
    metric: str
    value: float | None
    baseline: float | None
    gain_low: float | None
    gain_high: float | None
    evidence: str
    n: int
    method: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def average_precision_resampled(y_true: Any, p_pos: Any) -> Callable[[NDArray[np.intp]], NDArray[np.float64]]:
    """``average precision - positive rate`` per bootstrap resample, for
    :func:`active_learning.evaluation.bootstrap_interval`.

    y_true (n,) 0/1 and p_pos (n,) scores, or (n, L) each for the macro mean over labels (a label
    without a positive in a resample is left out of that resample's mean; NaN when none has one).
    Average precision is sklearn's (``average_precision_score``: precision at each distinct
    threshold, weighted by the recall it adds), computed for every resample at once from the
    resample's row counts.
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(p_pos, dtype=np.float64)
    if y.shape != p.shape or y.ndim not in (1, 2) or y.shape[0] == 0:
        raise InvalidInputError(
            f"y_true and p_pos must share an (n,) or (n, L) shape; got {y.shape}, {p.shape}"
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidInputError("y_true must hold 0/1 labels")
    Y = y[:, None] if y.ndim == 1 else y
    P = p[:, None] if p.ndim == 1 else p
    n = Y.shape[0]
    columns = []
    for j in range(Y.shape[1]):
        order = np.argsort(-P[:, j], kind="stable")
        ps = P[order, j]
        last_of_run = np.r_[ps[1:] != ps[:-1], True]  # the last row of each distinct score
        columns.append((order, Y[order, j], last_of_run))

    def statistic(rows: NDArray[np.intp]) -> NDArray[np.float64]:
        counts = np.zeros((rows.shape[0], n))
        np.add.at(counts, (np.repeat(np.arange(rows.shape[0]), rows.shape[1]), rows.ravel()), 1.0)
        gains = np.full((rows.shape[0], len(columns)), np.nan)
        for j, (order, ys, last) in enumerate(columns):
            w = counts[:, order]
            tp = np.cumsum(w * ys, axis=1)[:, last]
            seen = np.cumsum(w, axis=1)[:, last]
            positives = tp[:, -1]
            precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
            added = np.diff(np.column_stack([np.zeros(tp.shape[0]), tp]), axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ap = (added * precision).sum(axis=1) / positives
            gains[:, j] = np.where(positives > 0, ap - positives / rows.shape[1], np.nan)
        defined = np.isfinite(gains).sum(axis=1)
        out: NDArray[np.float64] = np.divide(
            np.nansum(gains, axis=1), defined, out=np.full(defined.shape, np.nan), where=defined > 0
        )
        return out

    return statistic


def _bootstrap_in_chunks(
    statistic: Callable[[NDArray[np.intp]], NDArray[np.float64]], n: int, rng: np.random.Generator
) -> tuple[float, float] | None:
    """The percentile interval over RESAMPLES resamples of ``n`` rows, drawn in chunks so that no
    index matrix of more than about 4 million cells exists at once (a large validation slice)."""
    per_chunk = max(1, min(RESAMPLES, 4_000_000 // max(n, 1)))
    if per_chunk >= RESAMPLES:
        return bootstrap_interval(statistic, n, rng, resamples=RESAMPLES, level=LEVEL)
    found = np.concatenate(
        [
            statistic(rng.integers(0, n, size=(min(per_chunk, RESAMPLES - start), n)).astype(np.intp))
            for start in range(0, RESAMPLES, per_chunk)
        ]
    )
    found = found[np.isfinite(found)]
    if found.size == 0:
        return None
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(found, [tail, 100 - tail])
    return float(low), float(high)


def compare(task: Task, y_true: Any, p: Any, *, rng: np.random.Generator, evidence: str) -> Readiness:
    """The comparison on one set of labels and model scores: y_true / p (n,) for binary
    (P(positive)) and preference (targets {0, 0.5, 1}, P(A)), (n, L) for multilabel."""
    check_rng(rng)
    metric = HEADLINE.get(task)
    if metric is None:
        raise InvalidInputError(f"readiness is defined for binary, multilabel and preference; got {task!r}")
    y = np.asarray(y_true, dtype=np.float64)
    proba = np.asarray(p, dtype=np.float64)
    if y.shape != proba.shape:
        raise InvalidInputError(f"labels {y.shape} and scores {proba.shape} must have the same shape")
    if task == "preference":
        decided = y != 0.5
        n = int(decided.sum())
        correct = int(((proba[decided] >= 0.5) == (y[decided] == 1.0)).sum())
        interval = wilson_interval(correct, n, level=LEVEL)
        value = correct / n if n else None
        return _verdict(
            metric,
            value,
            0.5,
            None if interval is None else (interval[0] - 0.5, interval[1] - 0.5),
            evidence,
            n,
            "Wilson",
            "decided pairs",
        )
    Y = y[:, None] if y.ndim == 1 else y
    P = proba[:, None] if proba.ndim == 1 else proba
    with_positive = Y.sum(axis=0) > 0
    if not with_positive.any():
        return Readiness(
            False,
            metric,
            None,
            None,
            None,
            None,
            evidence,
            int(Y.shape[0]),
            "none",
            "no signal: the evidence holds no positive item, so nothing shows the model ranks them",
        )
    from sklearn.metrics import average_precision_score  # type: ignore[import-untyped,unused-ignore]

    cols = np.nonzero(with_positive)[0]
    value = float(np.mean([average_precision_score(Y[:, j], P[:, j]) for j in cols]))
    baseline = float(np.mean(Y[:, cols].mean(axis=0)))
    statistic = average_precision_resampled(Y[:, cols], P[:, cols])
    interval = _bootstrap_in_chunks(statistic, int(Y.shape[0]), rng)
    return _verdict(metric, value, baseline, interval, evidence, int(Y.shape[0]), "paired bootstrap", "items")


def _verdict(
    metric: str,
    value: float | None,
    baseline: float,
    gain: tuple[float, float] | None,
    evidence: str,
    n: int,
    method: str,
    unit: str,
) -> Readiness:
    name = "chance" if metric == "accuracy" else "the prior-predicting classifier"
    if value is None or gain is None:
        return Readiness(
            False,
            metric,
            value,
            baseline,
            None,
            None,
            evidence,
            n,
            method,
            f"no signal: no {unit} to compare with {name}",
        )
    low, high = gain
    signal = low > 0
    figures = (
        f"{metric} {value:.3f} vs {name} {baseline:.3f}: gain {low:+.3f} to {high:+.3f} "
        f"(95% {method} interval, {n} {unit}, {evidence.replace('_', '-')})"
    )
    return Readiness(
        signal,
        metric,
        value,
        baseline,
        low,
        high,
        evidence,
        n,
        method,
        ("signal: " if signal else "no signal: ") + figures,
    )


def out_of_fold_proba(
    task: Task,
    X: Any,
    y: Any,
    rng: np.random.Generator,
    *,
    folds: int = FOLDS,
    model_params: dict[str, Any] | None = None,
) -> NDArray[np.float64]:
    """Scores of each labeled item by a model that did not see it (k-fold, the task's model):
    (n,) P(positive) / P(A), or (n, L) per label."""
    from sklearn.model_selection import KFold, StratifiedKFold  # type: ignore[import-untyped,unused-ignore]

    labels = np.asarray(y)
    n = labels.shape[0]
    seed = int(rng.integers(2**31 - 1))
    if task == "binary" and np.bincount(labels.astype(np.int64), minlength=2).min() >= folds:
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), labels)
    else:
        splits = KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n))
    out = np.zeros(labels.shape, dtype=np.float64)
    for train, test in splits:
        model = make_model(task, **(model_params or {}))
        model.fit(X[train], labels[train])
        proba = model.predict_proba(X[test])
        out[test] = proba if task == "multilabel" else proba[:, 1]
    return out


def assess(
    task: Task,
    model: Model | None,
    rng: np.random.Generator,
    *,
    validation: tuple[Any, Any] | None,
    labeled: tuple[Any, Any] | None,
    model_params: dict[str, Any] | None = None,
) -> Readiness:
    """Readiness of ``model`` on the validation slice ``(features, labels)``, or, without one,
    out of fold on the ``labeled`` set; no evidence (no model, or fewer than MIN_OUT_OF_FOLD
    labels) is no signal."""
    check_rng(rng)
    metric = HEADLINE.get(task, task)
    if model is None:
        return Readiness(
            False, metric, None, None, None, None, "none", 0, "none", "no signal: no model was trained"
        )
    if validation is not None and len(validation[1]):
        X, y = validation
        proba = model.predict_proba(X)
        return compare(
            task, y, proba if task == "multilabel" else proba[:, 1], rng=rng, evidence="validation"
        )
    if labeled is None or len(labeled[1]) < MIN_OUT_OF_FOLD:
        have = 0 if labeled is None else len(labeled[1])
        return Readiness(
            False,
            metric,
            None,
            None,
            None,
            None,
            "none",
            have,
            "none",
            f"no signal: no validation slice and only {have} labels "
            f"(out-of-fold evidence needs {MIN_OUT_OF_FOLD})",
        )
    X, y = labeled
    oof = out_of_fold_proba(task, X, y, rng, model_params=model_params)
    return compare(task, y, oof, rng=rng, evidence="out_of_fold")
