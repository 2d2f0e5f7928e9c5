"""Counterfactual consistency: score gaps between identity-swapped pairs.

A pair is one text and the same text with an identity term swapped ("... gay ..." vs
"... straight ..."); a consistent model gives both the same score. The report summarises
``|score_a - score_b|`` by quantiles and lists the pairs with the largest gap (positions into the
inputs; the caller maps them to ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from audits._validation import as_scores, check_positive_int

DEFAULT_QUANTILES = (0.5, 0.9, 0.95, 0.99, 1.0)


@dataclass(frozen=True)
class PairGap:
    """One pair: its position, both scores and ``gap = score_b - score_a``."""

    position: int
    score_a: float
    score_b: float
    gap: float


@dataclass(frozen=True)
class CounterfactualReport:
    """Distribution of absolute gaps over ``n_pairs`` pairs and the ``largest`` pairs.

    ``quantiles``: ``{q: quantile of |gap|}``; ``share_above``: ``{tolerance: share of pairs with
    |gap| > tolerance}``; ``mean_signed_gap`` > 0 means the swapped side (b) scores higher.
    """

    n_pairs: int
    mean_abs_gap: float
    mean_signed_gap: float
    quantiles: Mapping[float, float]
    share_above: Mapping[float, float]
    largest: tuple[PairGap, ...]


def counterfactual_gaps(
    scores_a: npt.ArrayLike,
    scores_b: npt.ArrayLike,
    *,
    top_k: int = 10,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    tolerances: Sequence[float] = (0.05, 0.1, 0.2),
) -> CounterfactualReport:
    """Gap distribution of ``(n_pairs,)`` scores of the originals (a) and the swapped texts (b).

    Pairs whose texts did not change should be left out by the caller (they have gap 0 by
    construction and would flatter the model). The ``top_k`` largest ``|gap|`` pairs come first,
    ties broken by position.
    """
    a = as_scores(scores_a, name="scores_a")
    b = as_scores(scores_b, name="scores_b", n_items=a.shape[0])
    check_positive_int(top_k, "top_k", minimum=0)
    qs = [float(q) for q in quantiles]
    if any(not 0.0 <= q <= 1.0 for q in qs):
        raise ValueError(f"quantiles must lie in [0, 1]; got {qs}")
    gap = b - a
    absolute = np.abs(gap)
    order = np.lexsort((np.arange(gap.shape[0]), -absolute))[:top_k]
    return CounterfactualReport(
        n_pairs=int(a.shape[0]),
        mean_abs_gap=float(absolute.mean()),
        mean_signed_gap=float(gap.mean()),
        quantiles={q: float(np.quantile(absolute, q)) for q in qs},
        share_above={float(t): float((absolute > t).mean()) for t in tolerances},
        largest=tuple(PairGap(int(i), float(a[i]), float(b[i]), float(gap[i])) for i in order),
    )
