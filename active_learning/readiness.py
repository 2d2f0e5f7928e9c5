"""Model readiness: is the round's model better than the baseline it must beat?

A model-based strategy ranks the pool by what the model believes; when the model has learned
nothing (HH-RLHF preferences on frozen embeddings stay at chance), that ranking is noise. So a
round first compares its model with the no-skill baseline of its task, with a 95% interval, and
only a model whose interval clears the baseline may drive the selection:

- binary: ROC-AUC against the prior-predicting classifier's, 0.5 (a constant score ranks
  nothing), with DeLong's variance on the logit scale. ROC-AUC and not PR-AUC: the no-skill
  PR-AUC is the positive rate, but the PR-AUC of unrelated scores lies above it when positives
  are few, and a bootstrap of it saw signals in up to a third of pure-noise slices
  (``bench/readiness.py``); the no-skill ROC-AUC is 0.5 exactly, whatever the counts.
- multilabel: the same on "any label" (does the model's largest per-label probability rank
  items with a label above clean ones?).
- preference: accuracy on the decided pairs against chance (0.5), Wilson's interval.

The evidence is the validation slice when there is one, else out-of-fold predictions on the
labeled set (k-fold, the task's own model). :func:`assess` returns a :class:`Readiness`; its
``signal`` is True only when the interval of the gain over the baseline lies above 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .classifiers import Model, Task, make_model
from .errors import InvalidInputError
from .evaluation import wilson_interval
from .validation import check_rng

LEVEL = 0.95
# Out-of-fold evidence needs this many labels (fewer: no evidence, so no signal).
MIN_OUT_OF_FOLD = 10
FOLDS = 5
HEADLINE = {"binary": "roc_auc", "multilabel": "roc_auc_any_label", "preference": "accuracy"}


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


def delong(y_true: Any, score: Any) -> tuple[float, float]:
    """ROC-AUC and DeLong's variance of it (DeLong, DeLong & Clarke-Pearson 1988), from midranks
    (Sun & Xu 2014): y_true (n,) 0/1 with both classes, score (n,). Ties count one half."""
    from scipy.stats import rankdata  # type: ignore[import-untyped,unused-ignore]

    y = np.asarray(y_true).astype(bool)
    p = np.asarray(score, dtype=np.float64)
    if y.ndim != 1 or y.shape != p.shape:
        raise InvalidInputError(f"y_true and score must share an (n,) shape; got {y.shape}, {p.shape}")
    pos, neg = p[y], p[~y]
    n1, n0 = pos.shape[0], neg.shape[0]
    if n1 < 2 or n0 < 2:
        raise InvalidInputError(f"DeLong's variance needs two items of each class; got {n1} and {n0}")
    ranks = rankdata(np.concatenate([pos, neg]))
    v10 = (ranks[:n1] - rankdata(pos)) / n0  # per positive: share of negatives scored below it
    v01 = 1.0 - (ranks[n1:] - rankdata(neg)) / n1  # per negative: share of positives above it
    auc = float(v10.mean())
    return auc, float(v10.var(ddof=1) / n1 + v01.var(ddof=1) / n0)


def auc_interval(y_true: Any, score: Any, *, level: float = LEVEL) -> tuple[float, tuple[float, float]]:
    """ROC-AUC with its interval: DeLong's variance on the logit scale (so the interval stays in
    (0, 1) and is not too narrow near 1). An AUC of exactly 0 or 1 is moved half a pair inwards
    for the logit, and a zero variance floored at that of one pair in ``n1 * n0``."""
    from scipy.stats import norm  # type: ignore[import-untyped,unused-ignore]

    y = np.asarray(y_true).astype(bool)
    auc, variance = delong(y, score)
    pairs = float(y.sum() * (~y).sum())
    edge = 0.5 / pairs
    a = min(max(auc, edge), 1 - edge)
    variance = max(variance, a * (1 - a) / pairs)
    half = float(norm.ppf(1 - (1 - level) / 2)) * math.sqrt(variance) / (a * (1 - a))
    logit = math.log(a / (1 - a))
    return auc, (1 / (1 + math.exp(-(logit - half))), 1 / (1 + math.exp(-(logit + half))))


def compare(task: Task, y_true: Any, p: Any, *, evidence: str) -> Readiness:
    """The comparison on one set of labels and model scores: y_true / p (n,) for binary
    (P(positive)) and preference (targets {0, 0.5, 1}, P(A)), (n, L) for multilabel."""
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
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidInputError(f"{task} labels must be 0/1")
    if task == "multilabel":  # does the model rank items with any label above clean ones?
        y, proba = y.max(axis=1), proba.max(axis=1)
    n = int(y.shape[0])
    positives = int((y == 1).sum())
    if min(positives, n - positives) < 2:
        return Readiness(
            False,
            metric,
            None,
            0.5,
            None,
            None,
            evidence,
            n,
            "DeLong",
            f"no signal: the evidence holds {positives} positive and {n - positives} negative "
            "items; telling the model from the prior needs two of each",
        )
    value, (low, high) = auc_interval(y, proba)
    return _verdict(metric, value, 0.5, (low - 0.5, high - 0.5), evidence, n, "DeLong, logit scale", "items")


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
        return compare(task, y, proba if task == "multilabel" else proba[:, 1], evidence="validation")
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
    return compare(task, y, oof, evidence="out_of_fold")
