"""What a decision threshold costs, and how sure a validation metric is.

Pure functions over a validation slice's labels and scores, for pages that show a round's
precision-recall curve, what moving its threshold costs, and a learning curve with intervals.
The cost rule is :func:`active_learning.metrics.choose_threshold`'s: predict positive when
``p >= threshold``; cost = ``cost_fp * FP + cost_fn * FN``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError
from .metrics import _binary_inputs


@dataclass(frozen=True)
class OperatingPoint:
    """The confusion counts of one threshold on a validation slice."""

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int
    cost: float  # cost_fp * fp + cost_fn * fn, over the whole slice

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def operating_points(
    y_true: Any, p_pos: Any, thresholds: Sequence[float], *, cost_fp: float = 1.0, cost_fn: float = 1.0
) -> list[OperatingPoint]:
    """Confusion counts and cost at each threshold; y_true (n,) 0/1, p_pos (n,) P(positive).

    Precision with nothing predicted positive is 1.0 (the PR curve's convention)."""
    y, p = _binary_inputs(y_true, p_pos)
    if cost_fp < 0 or cost_fn < 0:
        raise InvalidInputError(f"costs must be >= 0; got cost_fp={cost_fp}, cost_fn={cost_fn}")
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1:
        raise InvalidInputError(f"thresholds must be 1-D; got shape {t.shape}")
    # Sorted once, each threshold is a binary search: O((n + m) log n), no (m, n) matrix.
    order = np.argsort(p, kind="stable")
    ps = p[order]
    below_pos = np.r_[0, np.cumsum(y[order])]  # positives among the k lowest scores
    k = np.searchsorted(ps, t, side="left")  # how many score below each threshold
    n_pos = int(y.sum())
    fn = below_pos[k]
    tp = n_pos - fn
    tn = k - fn
    fp = (y.shape[0] - k) - tp
    return [
        OperatingPoint(
            threshold=float(t[i]),
            tp=int(tp[i]),
            fp=int(fp[i]),
            fn=int(fn[i]),
            tn=int(tn[i]),
            cost=float(cost_fp * fp[i] + cost_fn * fn[i]),
        )
        for i in range(t.shape[0])
    ]


def curve_thresholds(p_pos: Any) -> list[float]:
    """Every cut that changes a prediction: each distinct score (highest first), plus one
    above the highest ("never positive"). Walking them traces the whole PR curve."""
    p = np.unique(np.asarray(p_pos, dtype=np.float64))[::-1]
    if p.size == 0:
        return []
    return [float(np.nextafter(p[0], np.inf)), *(float(v) for v in p)]


def bootstrap_interval(
    statistic: Callable[[NDArray[np.intp]], NDArray[np.float64]],
    n: int,
    rng: np.random.Generator,
    *,
    resamples: int = 1000,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of a statistic over ``n`` rows.

    ``statistic`` takes a (resamples, n) matrix of row indices (one resample per row) and
    returns (resamples,) values; NaN values (a resample without positives, say) are dropped.
    None when n is 0 or every resample was NaN.
    """
    if not 0 < level < 1:
        raise InvalidInputError(f"level must lie in (0, 1); got {level}")
    if n <= 0:
        return None
    rows = rng.integers(0, n, size=(resamples, n)).astype(np.intp)
    values = np.asarray(statistic(rows), dtype=np.float64)
    if values.shape != (resamples,):
        raise InvalidInputError(f"statistic must return ({resamples},); got {values.shape}")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def f1_resampled(y_true: Any, pred: Any) -> Callable[[NDArray[np.intp]], NDArray[np.float64]]:
    """F1 per resample (0 when there is nothing to score, as sklearn's ``zero_division=0``).

    y_true and pred: (n,) 0/1, or (n, L) for per-label F1 averaged over the L labels (macro)."""
    y = np.asarray(y_true).astype(bool)
    hat = np.asarray(pred).astype(bool)
    if y.shape != hat.shape or y.ndim not in (1, 2):
        raise InvalidInputError(
            f"y_true and pred must share an (n,) or (n, L) shape; got {y.shape}, {hat.shape}"
        )

    def statistic(rows: NDArray[np.intp]) -> NDArray[np.float64]:
        yt, pr = y[rows], hat[rows]  # (B, n) or (B, n, L)
        tp = (yt & pr).sum(axis=1)
        wrong = (yt ^ pr).sum(axis=1)
        denominator = 2 * tp + wrong
        f1: NDArray[np.float64] = np.divide(
            2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0
        )
        if f1.ndim == 2:
            f1 = f1.mean(axis=1)
        return f1

    return statistic


def wilson_interval(successes: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (accuracy, say); None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise InvalidInputError(f"successes must lie in [0, n]; got {successes} of {n}")
    from scipy.stats import norm  # type: ignore[import-untyped,unused-ignore]

    z = float(norm.ppf(1 - (1 - level) / 2))
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
