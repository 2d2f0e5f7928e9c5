"""The ``audits`` library's reports as JSON the database can hold (PostgreSQL's jsonb refuses
NaN): NaN and infinities become null, tuples and sets lists, and each metric says whether it is
a number with an interval or "too few items" with the counts."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from audits import FairnessReport, InsufficientData, MetricResult
from audits.fairness import GROUP_METRICS


def clean(value: Any) -> Any:
    """JSON-safe copy of a report (dataclasses become dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(clean(v) for v in value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return clean(value.item())
    return value


def metric(result: MetricResult) -> dict[str, Any]:
    if isinstance(result, InsufficientData):
        return {
            "value": None,
            "low": None,
            "high": None,
            "too_few": True,
            "reason": result.reason,
            "counts": dict(result.counts),
            "needed": result.needed,
        }
    interval = result.interval
    low = clean(interval.low) if interval else None
    high = clean(interval.high) if interval else None
    return {"value": clean(result.value), "low": low, "high": high, "too_few": False}


def fairness(report: FairnessReport) -> dict[str, Any]:
    return {
        "n_items": report.n_items,
        "n_positive": report.n_positive,
        "n_negative": report.n_negative,
        "threshold": report.threshold,
        "overall_auc": metric(report.overall_auc),
        "final_metric": metric(report.final_metric),
        "bias_means": {k: metric(v) for k, v in report.bias_means.items()},
        "groups_in_mean": {k: list(v) for k, v in report.groups_in_mean.items()},
        "groups": [
            {
                "group": row.group,
                "n_items": row.n_items,
                "n_positive": row.n_positive,
                "n_negative": row.n_negative,
                **{m: metric(row.metric(m)) for m in GROUP_METRICS},
            }
            for row in report.groups
        ],
        "power": report.power,
        "overall_weight": report.overall_weight,
        "bias_weights": list(report.bias_weights),
        "min_count": report.min_count,
        "n_resamples": report.n_resamples,
        "level": report.level,
    }
