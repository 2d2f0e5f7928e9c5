"""A round's validation evidence: what the round stores (the slice's labels and the model's
scores) and what the pages read from it (the headline metric with its interval, the
precision-recall curve, and what moving the decision threshold costs).

The round stores raw scores rather than a drawn curve so that the curve, the cost table and
the interval are all computed from one record, by the library's rules
(``active_learning.evaluation``), whatever the page asks later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import active_learning as al
from active_learning import evaluation as ev
from workbench.projects import kinds
from workbench.rounds.models import Round
from workbench.rounds.snapshot import Snapshot

# The metric a learning curve follows, per kind (as the round's ``metrics`` names it).
HEADLINE_METRIC = {
    kinds.Kind.TOXICITY_BINARY: "f1",
    kinds.Kind.TOXICITY_MULTILABEL: "macro_f1",
    kinds.Kind.PREFERENCE: "accuracy",
}
# Rows of the cost table besides the chosen threshold.
TABLE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DIGITS = 6


def validation_scores(
    snap: Snapshot, X: Any, row: dict[int, int], result: al.RoundResult, *, seed: int
) -> dict[str, Any] | None:
    """What the round stores: ``{"y": labels, "p": scores, "interval": ...}`` of its validation
    slice, with binary / preference scores P(toxic) / P(A) per item and multi-label ones per item
    and label (``"labels"`` names the columns), and the headline metric's 95% interval (computed
    once here: a bootstrap over a large slice takes a while). None when no model was validated."""
    if result.model is None or not result.metrics or not snap.validation:
        return None
    proba = np.asarray(result.model.predict_proba(X[[row[p] for p in snap.validation]]), dtype=np.float64)
    y = snap.targets(snap.validation_targets)
    if snap.kind is kinds.Kind.TOXICITY_MULTILABEL:
        stored: dict[str, Any] = {
            "labels": list(kinds.SPECS[snap.kind].labels),
            "y": y.astype(int).tolist(),
            "p": np.round(proba, DIGITS).tolist(),
        }
    else:
        stored = {"y": y.tolist(), "p": np.round(proba[:, 1], DIGITS).tolist()}
    interval, method = metric_interval(snap.kind, stored, seed=seed)
    stored["interval"] = {"low": interval[0], "high": interval[1]} if interval else None
    stored["interval_method"] = method
    return stored


def metric_interval(
    kind: kinds.Kind, stored: dict[str, Any], *, seed: int
) -> tuple[tuple[float, float] | None, str]:
    """The headline metric's 95% interval over the stored validation slice: a percentile
    bootstrap of F1 (macro-F1 for multi-label) seeded by the round, Wilson's for preference
    accuracy (ties left out, as the metric does)."""
    y, p = np.asarray(stored["y"], dtype=np.float64), np.asarray(stored["p"], dtype=np.float64)
    if kind is kinds.Kind.PREFERENCE:
        decided = y != 0.5
        correct = int(((p[decided] >= 0.5) == (y[decided] == 1.0)).sum())
        return ev.wilson_interval(correct, int(decided.sum())), "Wilson"
    statistic = ev.f1_resampled(y.astype(int), p >= 0.5)
    return ev.bootstrap_interval(statistic, int(y.shape[0]), np.random.default_rng(seed)), "bootstrap"


@dataclass(frozen=True)
class LearningPoint:
    number: int
    round_id: int
    training_size: int
    metric: str
    value: float | None
    interval: tuple[float, float] | None
    interval_method: str  # "bootstrap", "Wilson", or why there is none
    pr_auc: float | None


def learning_point(round_: Round) -> LearningPoint:
    """The round's headline metric and its 95% interval over the validation slice."""
    kind = kinds.Kind(round_.project.kind)
    metric = HEADLINE_METRIC[kind]
    value = round_.metrics.get(metric)
    pr_auc = round_.metrics.get("macro_pr_auc" if kind is kinds.Kind.TOXICITY_MULTILABEL else "pr_auc")
    interval, method = _interval(kind, round_)
    return LearningPoint(
        number=round_.number,
        round_id=round_.id,
        training_size=round_.training_size or 0,
        metric=metric,
        value=value,
        interval=interval if value is not None else None,
        interval_method=method,
        pr_auc=pr_auc,
    )


def _interval(kind: kinds.Kind, round_: Round) -> tuple[tuple[float, float] | None, str]:
    stored = round_.validation_scores
    if not stored:
        return None, "not recorded (round made before scores were stored, or no validation)"
    if "interval" not in stored:
        return metric_interval(kind, stored, seed=round_.seed)
    found = stored["interval"]
    return ((found["low"], found["high"]) if found else None), stored["interval_method"]


@dataclass(frozen=True)
class CostRow:
    threshold: float
    fp: int
    fn: int
    precision: float
    recall: float
    cost: float
    d_fp: int  # against the chosen threshold
    d_fn: int
    d_cost: float
    chosen: bool


@dataclass(frozen=True)
class ThresholdView:
    """One binary decision (the project's, or one label's of a multi-label project)."""

    label: str
    n: int
    positives: int
    recall: list[float]  # the PR curve, from "never positive" to "always positive"
    precision: list[float]
    chosen: ev.OperatingPoint | None
    table: list[CostRow]


def threshold_views(round_: Round) -> list[ThresholdView]:
    """Per binary decision of the round: its PR curve, the chosen threshold's point, and the cost
    of other thresholds. Empty for preference projects and rounds without stored scores."""
    stored = round_.validation_scores
    kind = kinds.Kind(round_.project.kind)
    if not stored or kind is kinds.Kind.PREFERENCE:
        return []
    cost_fp = float(round_.parameters.get("cost_fp", 1.0))
    cost_fn = float(round_.parameters.get("cost_fn", 1.0))
    y, p = np.asarray(stored["y"]), np.asarray(stored["p"], dtype=np.float64)
    if kind is kinds.Kind.TOXICITY_MULTILABEL:
        chosen = round_.threshold or {}
        return [
            _view(name, y[:, j], p[:, j], (chosen.get(name) or {}).get("threshold"), cost_fp, cost_fn)
            for j, name in enumerate(stored["labels"])
        ]
    positive = kinds.SPECS[kind].labels[0]  # binary target 1 is "toxic"
    return [_view(positive, y, p, (round_.threshold or {}).get("threshold"), cost_fp, cost_fn)]


def _view(
    label: str, y: Any, p: Any, threshold: float | None, cost_fp: float, cost_fn: float
) -> ThresholdView:
    y = np.asarray(y).astype(int)
    curve = ev.operating_points(y, p, ev.curve_thresholds(p), cost_fp=cost_fp, cost_fn=cost_fn)
    chosen = None
    cuts = list(TABLE_THRESHOLDS)
    if threshold is not None:
        chosen = ev.operating_points(y, p, [threshold], cost_fp=cost_fp, cost_fn=cost_fn)[0]
        cuts = sorted({*cuts, threshold})
    table = []
    for point in ev.operating_points(y, p, cuts, cost_fp=cost_fp, cost_fn=cost_fn):
        base = chosen or point
        table.append(
            CostRow(
                threshold=point.threshold,
                fp=point.fp,
                fn=point.fn,
                precision=point.precision,
                recall=point.recall,
                cost=point.cost,
                d_fp=point.fp - base.fp,
                d_fn=point.fn - base.fn,
                d_cost=point.cost - base.cost,
                chosen=chosen is not None and point.threshold == chosen.threshold,
            )
        )
    return ThresholdView(
        label=label,
        n=int(y.shape[0]),
        positives=int(y.sum()),
        recall=[c.recall for c in curve],
        precision=[c.precision for c in curve],
        chosen=chosen,
        table=table,
    )
