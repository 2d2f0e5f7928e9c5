"""Fairness of a model's scores per identity group (Borkan et al., 2019, "Nuanced Metrics for
Measuring Unintended Bias with Real Data for Text Classification").

For a group ``g`` (its items: the subgroup; all other items: the background):

* subgroup AUC: AUC on the subgroup's items only;
* BPSN AUC (background positive, subgroup negative): AUC of background positives against
  subgroup negatives -- low when the model scores innocuous mentions of ``g`` high;
* BNSP AUC (background negative, subgroup positive): AUC of subgroup positives against
  background negatives -- low when the model scores toxic mentions of ``g`` low.

The Jigsaw Unintended Bias final metric is ``w0 * AUC_overall + sum_a w_a * M_p(AUC_a)`` with
``M_p`` the generalised (power) mean over groups, ``p = -5`` and all four weights 0.25.

Each number comes with a bootstrap percentile interval (items resampled with replacement,
an explicit ``numpy.random.Generator``) or, when the group has fewer than ``min_count``
positives/negatives where the metric needs them, an :class:`~audits.results.InsufficientData`
with the counts instead of a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from audits._auc import auc as _auc
from audits._auc import greater as _greater
from audits._auc import less as _less
from audits._validation import (
    BoolArray,
    FloatArray,
    IntArray,
    as_binary_labels,
    as_scores,
    check_fraction,
    check_positive_int,
    check_rng,
)
from audits.identity import GroupAssignment, masks_of
from audits.results import Estimate, InsufficientData, Interval, MetricResult

BIAS_METRICS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
RATE_METRICS = ("false_positive_rate", "false_negative_rate")
GROUP_METRICS = BIAS_METRICS + RATE_METRICS

# Which counts each metric needs (each must reach min_count).
_NEEDS: dict[str, tuple[str, ...]] = {
    "subgroup_auc": ("subgroup_positives", "subgroup_negatives"),
    "bpsn_auc": ("background_positives", "subgroup_negatives"),
    "bnsp_auc": ("subgroup_positives", "background_negatives"),
    "false_positive_rate": ("subgroup_negatives",),
    "false_negative_rate": ("subgroup_positives",),
}


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """ROC AUC of ``scores`` (n,) for 0/1 ``labels`` (n,); ties count one half. NaN if one class is absent."""
    s = as_scores(scores, name="scores")
    y = as_binary_labels(labels, name="labels", n_items=s.shape[0])
    return _auc(s[y == 1], s[y == 0])


def _prepared(
    labels: npt.ArrayLike, scores: npt.ArrayLike, mask: npt.ArrayLike
) -> tuple[IntArray, FloatArray, BoolArray]:
    s = as_scores(scores, name="scores")
    y = as_binary_labels(labels, name="labels", n_items=s.shape[0])
    m = masks_of({"group": mask}, s.shape[0])["group"]
    return y, s, m


def subgroup_auc(labels: npt.ArrayLike, scores: npt.ArrayLike, mask: npt.ArrayLike) -> float:
    """AUC within the group's items (``mask`` (n,) bool). NaN when it lacks a class."""
    y, s, m = _prepared(labels, scores, mask)
    return _auc(s[m & (y == 1)], s[m & (y == 0)])


def bpsn_auc(labels: npt.ArrayLike, scores: npt.ArrayLike, mask: npt.ArrayLike) -> float:
    """AUC of background positives against subgroup negatives."""
    y, s, m = _prepared(labels, scores, mask)
    return _auc(s[~m & (y == 1)], s[m & (y == 0)])


def bnsp_auc(labels: npt.ArrayLike, scores: npt.ArrayLike, mask: npt.ArrayLike) -> float:
    """AUC of subgroup positives against background negatives."""
    y, s, m = _prepared(labels, scores, mask)
    return _auc(s[m & (y == 1)], s[~m & (y == 0)])


def generalized_mean(values: Sequence[float] | npt.ArrayLike, power: float) -> float:
    """``(mean(v ** p)) ** (1 / p)`` over positive ``values``; with ``p < 0`` any zero gives 0."""
    v = as_scores(values, name="values")
    if (v < 0).any():
        raise ValueError(f"generalized_mean needs non-negative values; got {v.tolist()}")
    if power == 0:
        raise ValueError("power must not be 0 (that is the geometric mean; pass it explicitly)")
    if power < 0 and (v == 0).any():
        return 0.0
    return float(np.mean(v**power) ** (1.0 / power))


def _group_values(
    y: IntArray, s: FloatArray, m: BoolArray, all_pos: FloatArray, all_neg: FloatArray, threshold: float
) -> dict[str, float]:
    """All five group metrics on one (possibly resampled) data set; NaN where undefined."""
    gpos = s[m & (y == 1)]
    gneg = s[m & (y == 0)]
    n_bg_pos = all_pos.size - gpos.size
    n_bg_neg = all_neg.size - gneg.size
    nan = float("nan")
    gpos_sorted = np.sort(gpos)
    gneg_sorted = np.sort(gneg)
    out = {
        "subgroup_auc": _greater(gpos_sorted, gneg) / (gpos.size * gneg.size)
        if gpos.size and gneg.size
        else nan,
        "bpsn_auc": (
            (_greater(all_pos, gneg) - _greater(gpos_sorted, gneg)) / (n_bg_pos * gneg.size)
            if n_bg_pos and gneg.size
            else nan
        ),
        "bnsp_auc": (
            (_less(all_neg, gpos) - _less(gneg_sorted, gpos)) / (n_bg_neg * gpos.size)
            if n_bg_neg and gpos.size
            else nan
        ),
        "false_positive_rate": float((gneg >= threshold).mean()) if gneg.size else nan,
        "false_negative_rate": float((gpos < threshold).mean()) if gpos.size else nan,
    }
    return out


@dataclass(frozen=True)
class GroupFairness:
    """One identity group's row of the fairness table (counts and five metrics)."""

    group: str
    n_items: int
    n_positive: int
    n_negative: int
    subgroup_auc: MetricResult
    bpsn_auc: MetricResult
    bnsp_auc: MetricResult
    false_positive_rate: MetricResult
    false_negative_rate: MetricResult

    def metric(self, name: str) -> MetricResult:
        if name not in GROUP_METRICS:
            raise ValueError(f"unknown metric {name!r}; the metrics are {list(GROUP_METRICS)}")
        result: MetricResult = getattr(self, name)
        return result


@dataclass(frozen=True)
class FairnessReport:
    """Per-group fairness table, overall AUC and the Jigsaw final metric.

    ``bias_means[a]``: generalised mean of metric ``a`` over ``groups_in_mean[a]`` (groups whose
    value was shown, not "insufficient"). ``groups`` is sorted by name.
    """

    n_items: int
    n_positive: int
    n_negative: int
    threshold: float
    overall_auc: MetricResult
    groups: tuple[GroupFairness, ...]
    bias_means: Mapping[str, MetricResult]
    groups_in_mean: Mapping[str, tuple[str, ...]]
    final_metric: MetricResult
    power: float
    overall_weight: float
    bias_weights: tuple[float, float, float]
    min_count: int
    n_resamples: int
    level: float

    def group(self, name: str) -> GroupFairness:
        for row in self.groups:
            if row.group == name:
                return row
        raise ValueError(f"no group {name!r} in the report; the groups are {[g.group for g in self.groups]}")


def _interval(samples: FloatArray, level: float, n_resamples: int) -> Interval:
    valid = samples[~np.isnan(samples)]
    if valid.size * 2 < n_resamples or valid.size == 0:
        return Interval(float("nan"), float("nan"), level, n_resamples, int(valid.size))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(valid, [tail, 100.0 - tail])
    return Interval(float(low), float(high), level, n_resamples, int(valid.size))


def _final(overall: float, means: Sequence[float], overall_weight: float, weights: Sequence[float]) -> float:
    return overall_weight * overall + float(sum(w * m for w, m in zip(weights, means, strict=True)))


def fairness_audit(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    groups: GroupAssignment | Mapping[str, npt.ArrayLike],
    *,
    threshold: float,
    rng: np.random.Generator,
    n_resamples: int = 200,
    level: float = 0.95,
    min_count: int = 10,
    power: float = -5.0,
    overall_weight: float = 0.25,
    bias_weights: tuple[float, float, float] = (0.25, 0.25, 0.25),
) -> FairnessReport:
    """Subgroup / BPSN / BNSP AUC, FPR and FNR per group, overall AUC and the final metric.

    Args:
        labels: ``(n,)`` 0/1 true labels (1 = toxic).
        scores: ``(n,)`` model scores (higher = more toxic).
        groups: a :class:`GroupAssignment` or ``{group: (n,) bool mask}`` (items may be in several).
        threshold: an item is predicted toxic when ``score >= threshold`` (the round's cost threshold).
        rng: randomness of the bootstrap.
        n_resamples: bootstrap resamples (0: no intervals).
        level: interval coverage.
        min_count: each count a metric needs (see the module docstring) must reach this.
        power, overall_weight, bias_weights: the final metric's parameters (Jigsaw: -5, 0.25, 0.25 x 3).
    """
    s = as_scores(scores, name="scores")
    y = as_binary_labels(labels, name="labels", n_items=s.shape[0])
    masks = masks_of(groups, s.shape[0])
    check_rng(rng)
    check_positive_int(n_resamples, "n_resamples", minimum=0)
    check_positive_int(min_count, "min_count")
    check_fraction(level, "level")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}")
    if len(bias_weights) != 3:
        raise ValueError(f"bias_weights must hold 3 weights (subgroup, BPSN, BNSP); got {bias_weights}")
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())

    def point(
        sample_y: IntArray, sample_s: FloatArray, sample_masks: Mapping[str, BoolArray]
    ) -> dict[str, float]:
        all_pos = np.sort(sample_s[sample_y == 1])
        all_neg = sample_s[sample_y == 0]
        values = {
            "overall_auc": _greater(all_pos, all_neg) / (all_pos.size * all_neg.size)
            if all_pos.size and all_neg.size
            else float("nan")
        }
        all_neg_sorted = np.sort(all_neg)
        for g, m in sample_masks.items():
            for metric, v in _group_values(sample_y, sample_s, m, all_pos, all_neg_sorted, threshold).items():
                values[f"{g}\0{metric}"] = v
        return values

    estimate = point(y, s, masks)
    counts: dict[str, dict[str, int]] = {}
    shown: dict[str, bool] = {}
    for g, m in masks.items():
        c = {
            "subgroup_positives": int((m & (y == 1)).sum()),
            "subgroup_negatives": int((m & (y == 0)).sum()),
            "background_positives": int((~m & (y == 1)).sum()),
            "background_negatives": int((~m & (y == 0)).sum()),
        }
        counts[g] = c
        for metric in GROUP_METRICS:
            shown[f"{g}\0{metric}"] = all(c[k] >= min_count for k in _NEEDS[metric])
    shown["overall_auc"] = n_pos >= min_count and n_neg >= min_count

    in_mean = {a: tuple(g for g in masks if shown[f"{g}\0{a}"]) for a in BIAS_METRICS}

    def finals(values: Mapping[str, float]) -> tuple[list[float], float]:
        means = [
            generalized_mean([values[f"{g}\0{a}"] for g in in_mean[a]], power)
            if in_mean[a] and not any(np.isnan(values[f"{g}\0{a}"]) for g in in_mean[a])
            else float("nan")
            for a in BIAS_METRICS
        ]
        return means, _final(values["overall_auc"], means, overall_weight, bias_weights)

    est_means, est_final = finals(estimate)
    keys = sorted(estimate)
    boot = np.full((n_resamples, len(keys) + 4), np.nan)
    for r in range(n_resamples):
        idx = rng.integers(0, s.shape[0], size=s.shape[0])
        values = point(y[idx], s[idx], {g: m[idx] for g, m in masks.items()})
        boot[r, : len(keys)] = [values[k] for k in keys]
        means, final = finals(values)
        boot[r, len(keys) :] = [*means, final]
    column = {k: i for i, k in enumerate(keys)}

    def result(
        key: str, value: float, col: int, metric: str, needed_counts: Mapping[str, int]
    ) -> MetricResult:
        if not shown.get(key, True) or np.isnan(value):
            return InsufficientData(
                metric=metric,
                needed=min_count,
                counts=dict(needed_counts),
                reason=f"{metric} needs at least {min_count} of each of: {', '.join(needed_counts)}",
            )
        interval = _interval(boot[:, col], level, n_resamples) if n_resamples else None
        return Estimate(value=float(value), interval=interval)

    rows = []
    for g, m in masks.items():
        per = {
            metric: result(
                f"{g}\0{metric}",
                estimate[f"{g}\0{metric}"],
                column[f"{g}\0{metric}"],
                metric,
                {k: counts[g][k] for k in _NEEDS[metric]},
            )
            for metric in GROUP_METRICS
        }
        rows.append(
            GroupFairness(
                group=g,
                n_items=int(m.sum()),
                n_positive=counts[g]["subgroup_positives"],
                n_negative=counts[g]["subgroup_negatives"],
                **per,
            )
        )
    overall = result(
        "overall_auc",
        estimate["overall_auc"],
        column["overall_auc"],
        "overall_auc",
        {"positives": n_pos, "negatives": n_neg},
    )
    bias_means: dict[str, MetricResult] = {}
    for i, a in enumerate(BIAS_METRICS):
        bias_means[a] = result(
            f"mean\0{a}",
            est_means[i],
            len(keys) + i,
            f"power mean of {a}",
            {"groups_with_enough_data": len(in_mean[a])},
        )
    final_metric = result(
        "final",
        est_final,
        len(keys) + 3,
        "final_metric",
        {"groups_with_enough_data": min(len(v) for v in in_mean.values()) if in_mean else 0},
    )
    if isinstance(overall, InsufficientData):
        final_metric = InsufficientData(
            "final_metric", min_count, overall.counts, "the overall AUC has too few data"
        )
    return FairnessReport(
        n_items=int(s.shape[0]),
        n_positive=n_pos,
        n_negative=n_neg,
        threshold=float(threshold),
        overall_auc=overall,
        groups=tuple(rows),
        bias_means=bias_means,
        groups_in_mean=in_mean,
        final_metric=final_metric,
        power=float(power),
        overall_weight=float(overall_weight),
        bias_weights=(float(bias_weights[0]), float(bias_weights[1]), float(bias_weights[2])),
        min_count=min_count,
        n_resamples=n_resamples,
        level=level,
    )
