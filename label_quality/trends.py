"""Uncertainty and change over time for any agreement statistic.

``statistic`` below is any function from a rating matrix to a float, e.g.
:func:`label_quality.agreement.krippendorff_alpha` or
``functools.partial(fleiss_kappa, n_categories=3)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from label_quality._validation import FloatArray, check_probability, check_rng

Statistic = Callable[[FloatArray], float]


@dataclass(frozen=True)
class ConfidenceInterval:
    """Bootstrap percentile interval.

    ``estimate``: statistic on the data as given; ``low`` / ``high``: interval bounds
    (NaN when fewer than half the resamples gave a defined value); ``n_resamples``:
    resamples drawn; ``n_valid``: resamples whose statistic was not NaN.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int
    n_valid: int


def _multi_rated_rows(values: FloatArray) -> npt.NDArray[np.int64]:
    present = ~np.isnan(values)
    rated = present.any(axis=2) if values.ndim == 3 else present
    n_raters = np.asarray(rated, dtype=np.int64).sum(axis=1)
    return np.flatnonzero(n_raters >= 2).astype(np.int64)


def _as_ratings(ratings: npt.ArrayLike) -> FloatArray:
    values = np.asarray(ratings, dtype=np.float64)
    if values.ndim not in (2, 3) or 0 in values.shape:
        raise ValueError(
            "ratings must be (n_items, n_annotators) or (n_items, n_annotators, n_labels) "
            f"and non-empty; got shape {values.shape}"
        )
    return values


def bootstrap_ci(
    ratings: npt.ArrayLike,
    statistic: Statistic,
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    confidence: float = 0.95,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``statistic`` by resampling items.

    Items (rows) are the unit of resampling because annotators rate items, and ratings
    of one item are not independent. Only items with at least two ratings are resampled:
    the others do not enter any agreement statistic, and resampling them would only
    make the effective sample size random.

    Args:
        ratings: ``(n_items, n_annotators)`` (or ``(..., n_labels)``), NaN = missing.
        statistic: maps a rating matrix of the same layout to a float (NaN allowed).
        rng: seeded ``numpy.random.Generator``; same seed -> same interval.
        n_resamples: number of bootstrap resamples (>= 1).
        confidence: interval level in (0, 1).

    Returns:
        :class:`ConfidenceInterval`.
    """
    rng = check_rng(rng)
    values = _as_ratings(ratings)
    check_probability(confidence, "confidence")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    rows = _multi_rated_rows(values)
    estimate = float(statistic(values))
    if rows.size == 0:
        return ConfidenceInterval(estimate, float("nan"), float("nan"), confidence, n_resamples, 0)
    used = values[rows]
    draws = np.empty(n_resamples)
    for b in range(n_resamples):
        draws[b] = statistic(used[rng.integers(0, rows.size, size=rows.size)])
    valid = draws[~np.isnan(draws)]
    if valid.size < max(1, n_resamples // 2):
        low = high = float("nan")
    else:
        tail = (1.0 - confidence) / 2.0
        low, high = (float(q) for q in np.quantile(valid, [tail, 1.0 - tail]))
    return ConfidenceInterval(estimate, low, high, confidence, n_resamples, int(valid.size))


@dataclass(frozen=True)
class TrendPoint:
    """One period of :func:`agreement_trend`.

    ``n_items``: items with >= 2 ratings in the period; ``n_ratings``: ratings in it;
    ``ci_low`` / ``ci_high``: bootstrap interval (NaN when not requested).
    """

    period: Hashable
    value: float
    n_items: int
    n_ratings: int
    ci_low: float
    ci_high: float


def agreement_trend(
    ratings: npt.ArrayLike,
    periods: npt.ArrayLike,
    statistic: Statistic,
    *,
    rng: np.random.Generator | None = None,
    n_resamples: int = 0,
    confidence: float = 0.95,
) -> list[TrendPoint]:
    """One value of ``statistic`` per period (labeling round, ISO week, ...).

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        periods: period key per item ``(n_items,)`` (e.g. the round an item was served
            in) or per rating ``(n_items, n_annotators)`` (e.g. ISO week each
            annotation was made, see :func:`iso_week`). With per-rating keys, a period
            sees only the ratings made in it, so agreement between a Monday rating and
            a later re-rating counts in neither week. Keys must be mutually sortable;
            None marks "no period".
        statistic: rating matrix -> float.
        rng: required when ``n_resamples > 0`` (bootstrap interval per period).
        n_resamples: 0 = no intervals.
        confidence: interval level.

    Returns:
        :class:`TrendPoint` per period that has at least one rating, sorted by key.
    """
    values = _as_ratings(ratings)
    if values.ndim != 2:
        raise ValueError(f"ratings must be 2-D (n_items, n_annotators); got {values.shape}")
    keys = np.asarray(periods, dtype=object)
    if keys.shape == (values.shape[0],):
        keys = np.repeat(keys[:, None], values.shape[1], axis=1)
    elif keys.shape != values.shape:
        raise ValueError(f"periods must have shape ({values.shape[0]},) or {values.shape}; got {keys.shape}")
    if n_resamples > 0 and rng is None:
        raise ValueError("rng is required when n_resamples > 0")
    present = ~np.isnan(values)
    distinct = {k for k in keys[present].tolist() if k is not None}
    try:
        ordered = sorted(distinct)
    except TypeError as exc:
        raise TypeError(f"period keys must be mutually sortable: {exc}") from None
    code_of = {key: code for code, key in enumerate(ordered)}
    codes = np.array(
        [code_of.get(k, -1) if k is not None else -1 for k in keys.ravel().tolist()],
        dtype=np.int64,
    ).reshape(keys.shape)
    points: list[TrendPoint] = []
    for code, period in enumerate(ordered):
        mask = present & (codes == code)
        part = np.where(mask, values, np.nan)
        part = part[mask.any(axis=1)]
        value = float(statistic(part))
        low = high = float("nan")
        if n_resamples > 0 and rng is not None:
            ci = bootstrap_ci(part, statistic, rng=rng, n_resamples=n_resamples, confidence=confidence)
            low, high = ci.low, ci.high
        points.append(
            TrendPoint(
                period=period,
                value=value,
                n_items=int(np.sum(mask.sum(axis=1) >= 2)),
                n_ratings=int(mask.sum()),
                ci_low=low,
                ci_high=high,
            )
        )
    return points


def iso_week(timestamps: Sequence[dt.date | dt.datetime]) -> list[str]:
    """ISO-8601 week keys (``"2026-W07"``) that sort chronologically as strings.

    Timezone-aware datetimes are taken in their own zone; convert first if weeks should
    follow one office's calendar.
    """
    keys: list[str] = []
    for stamp in timestamps:
        if not isinstance(stamp, dt.date):
            raise TypeError(f"timestamps must be dates or datetimes; got {type(stamp).__name__}")
        year, week, _ = stamp.isocalendar()
        keys.append(f"{year}-W{week:02d}")
    return keys
