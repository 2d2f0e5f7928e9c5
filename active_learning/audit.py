"""The audit slice: a small uniformly random share of every batch, and what it tells.

Each round puts a few items drawn uniformly at random from the pool into its batch, among the
strategy's picks. When their labels come back, they are a random sample of what random
sampling would have found, labeled by the same people at the same time, so comparing the rate
of *useful* labels (a toxic item found, a pair the model got wrong) among the strategy's items
with the rate among the audit items estimates how many labels active learning saves:

    ratio = rate(strategy items) / rate(audit items)   (the relative rate, Katz's log interval)

To get as many useful labels as the strategy's ``n`` labels gave, random sampling needs about
``ratio * n`` labels; the saving is ``(ratio - 1) * n`` labels, the share of labels saved
``1 - 1 / ratio``. Both follow from the ratio's interval end by end (they grow with it).

The audit items of a round are drawn from the pool *as it stands then*: what random sampling
would find next, not what it would have found from the start. Once a strategy has taken many of
the useful items, the pool left holds fewer of them, so the ratio is the strategy's marginal
edge and overstates the saving against random labeling from the start (``bench/readiness.py``
prints both).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError
from .validation import check_rng

LEVEL = 0.95
# Below these the estimate is not shown: the ratio's interval would be too wide to mean anything.
MIN_AUDIT_LABELS = 30
MIN_USEFUL = 5


def audit_count(k: int, share: float, rng: np.random.Generator) -> int:
    """How many of a batch of ``k`` are audit items: ``k * share`` rounded up or down at random
    (stochastic rounding), so the expected share is exactly ``share`` even for small batches."""
    check_rng(rng)
    if not 0 <= share <= 1:
        raise InvalidInputError(f"the audit share must lie in [0, 1]; got {share}")
    if k < 0:
        raise InvalidInputError(f"k must be >= 0; got {k}")
    exact = k * share
    whole = math.floor(exact)
    return min(k, whole + int(rng.random() < exact - whole))


def with_audit_slice(
    positions: NDArray[np.intp], scores: NDArray[np.float64], k_audit: int, rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """The batch with ``k_audit`` of its places given to pool items drawn uniformly at random
    among the eligible ones (finite score), at random places in the serving order.

    positions: (k,) the strategy's picks, best first; scores: (n_pool,) its priorities. Returns
    the batch's positions (k,) and which of them are audit items (k,). The audit items are drawn
    from the whole eligible pool (the strategy's picks included), so they are a uniform sample of
    it; the strategy keeps its best picks that were not drawn.
    """
    check_rng(rng)
    picks = np.asarray(positions, dtype=np.intp)
    k = picks.shape[0]
    eligible = np.nonzero(np.isfinite(np.asarray(scores, dtype=np.float64)))[0]
    k_audit = min(k_audit, k, eligible.shape[0])
    if k_audit < 0:
        raise InvalidInputError(f"k_audit must be >= 0; got {k_audit}")
    if k_audit == 0:
        return picks, np.zeros(k, dtype=bool)
    drawn = rng.choice(eligible, size=k_audit, replace=False).astype(np.intp)
    kept = picks[~np.isin(picks, drawn)][: k - k_audit]
    slots = np.zeros(k, dtype=bool)
    slots[rng.choice(k, size=k_audit, replace=False)] = True
    batch = np.empty(k, dtype=np.intp)
    batch[slots] = drawn
    batch[~slots] = kept
    return batch, slots


@dataclass(frozen=True)
class Savings:
    """The live estimate, or why there is none (``ready`` False and ``message`` says so).

    ratio / ratio_low / ratio_high: useful-label rate of strategy items over audit items, with
    its 95% interval; saved / saved_low / saved_high: labels saved on the strategy's labeled
    items, ``(ratio - 1) * strategy_labeled``; share_saved*: ``1 - 1 / ratio``.
    """

    ready: bool
    message: str
    strategy_labeled: int
    strategy_useful: int
    audit_labeled: int
    audit_useful: int
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    saved: float | None = None
    saved_low: float | None = None
    saved_high: float | None = None
    share_saved: float | None = None
    share_saved_low: float | None = None
    share_saved_high: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def savings_estimate(
    *,
    strategy_useful: int,
    strategy_labeled: int,
    audit_useful: int,
    audit_labeled: int,
    useful: str = "useful labels",
    min_audit: int = MIN_AUDIT_LABELS,
    min_useful: int = MIN_USEFUL,
) -> Savings:
    """The relative rate of useful labels (strategy over audit) with Katz's 95% interval
    (``scipy.stats.contingency.relative_risk``), and the labels it saves; ``useful`` names what
    counts (for the message). Not shown before ``min_audit`` audit items are labeled and both
    groups hold ``min_useful`` useful labels."""
    counts = (strategy_useful, strategy_labeled, audit_useful, audit_labeled)
    if any(c < 0 for c in counts) or strategy_useful > strategy_labeled or audit_useful > audit_labeled:
        raise InvalidInputError(f"useful counts must lie in [0, labeled]; got {counts}")
    base = {
        "strategy_labeled": strategy_labeled,
        "strategy_useful": strategy_useful,
        "audit_labeled": audit_labeled,
        "audit_useful": audit_useful,
    }
    if audit_labeled < min_audit:
        return Savings(False, f"not enough audit labels yet ({audit_labeled} of {min_audit})", **base)
    if strategy_labeled == 0:
        return Savings(False, "no strategy item is labeled yet", **base)
    if min(strategy_useful, audit_useful) < min_useful:
        return Savings(
            False,
            f"not enough {useful} yet ({audit_useful} among {audit_labeled} audit items, "
            f"{strategy_useful} among {strategy_labeled} strategy items; {min_useful} of each needed)",
            **base,
        )
    from scipy.stats.contingency import relative_risk  # type: ignore[import-untyped,unused-ignore]

    result = relative_risk(strategy_useful, strategy_labeled, audit_useful, audit_labeled)
    ci = result.confidence_interval(confidence_level=LEVEL)
    ratio, low, high = float(result.relative_risk), float(ci.low), float(ci.high)
    n = strategy_labeled
    message = (
        f"{useful}: {strategy_useful / strategy_labeled:.3f} per strategy label vs "
        f"{audit_useful / audit_labeled:.3f} per audit label, ratio {ratio:.2f} "
        f"(95% interval {low:.2f} – {high:.2f}); the {n} strategy labels found as many as about "
        f"{ratio * n:.0f} random draws from the same pool would ({low * n:.0f} – {high * n:.0f}): "
        f"{(ratio - 1) * n:+.0f} labels saved ({(low - 1) * n:+.0f} – {(high - 1) * n:+.0f})"
    )
    return Savings(
        True,
        message,
        **base,
        ratio=ratio,
        ratio_low=low,
        ratio_high=high,
        saved=(ratio - 1) * n,
        saved_low=(low - 1) * n,
        saved_high=(high - 1) * n,
        share_saved=1 - 1 / ratio,
        share_saved_low=1 - 1 / low,
        share_saved_high=1 - 1 / high,
    )
