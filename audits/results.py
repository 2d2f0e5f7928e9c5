"""Result types shared by the audits: an estimate with its interval, or "too few data"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interval:
    """Bootstrap percentile interval.

    ``level``: coverage (e.g. 0.95); ``n_resamples``: resamples drawn; ``n_valid``: resamples
    in which the statistic was defined (a resample can lack positives for a small group).
    ``low``/``high`` are NaN when fewer than half the resamples were valid.
    """

    low: float
    high: float
    level: float
    n_resamples: int
    n_valid: int


@dataclass(frozen=True)
class Estimate:
    """A statistic on the data as given, with its bootstrap interval (None when not resampled)."""

    value: float
    interval: Interval | None = None


@dataclass(frozen=True)
class InsufficientData:
    """A statistic that is not shown because the data are too few.

    ``counts`` holds the counts that were checked (e.g. ``{"subgroup_positives": 3}``) and
    ``needed`` the minimum each had to reach; ``reason`` says it in words.
    """

    metric: str
    needed: int
    counts: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""


MetricResult = Estimate | InsufficientData
