"""Gold (known-answer) items: per-annotator accuracy and flagging."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.stats.proportion import (  # type: ignore[import-untyped, unused-ignore]
    proportion_confint,
)

from label_quality._validation import (
    BoolArray,
    FloatArray,
    IntArray,
    as_rating_matrix,
    check_probability,
)


@dataclass(frozen=True)
class GoldReport:
    """Per-annotator gold accuracy; every array has shape ``(n_annotators,)``.

    ``n_gold``: gold items the annotator answered; ``n_correct``: of those, equal to the
    gold answer; ``accuracy``: ``n_correct / n_gold`` (NaN when 0); ``ci_low`` /
    ``ci_high``: Wilson score interval at ``confidence`` (NaN when 0); ``flagged``:
    ``n_gold >= min_answers`` and ``accuracy < threshold``.
    """

    n_gold: IntArray
    n_correct: IntArray
    accuracy: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    flagged: BoolArray
    threshold: float
    min_answers: int


def gold_report(
    ratings: npt.ArrayLike,
    gold: npt.ArrayLike,
    *,
    n_categories: int | None = None,
    threshold: float = 0.8,
    min_answers: int = 10,
    confidence: float = 0.95,
) -> GoldReport:
    """Score annotators on gold items and flag those below ``threshold``.

    An annotator is flagged only once they have answered at least ``min_answers`` gold
    items, so two unlucky answers on day one do not flag anybody. The Wilson interval
    is returned for display (an admin can see whether "0.75 on 12 items" is clearly
    below the bar); the flag itself uses the point estimate, which is easy to explain.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        gold: ``(n_items,)`` gold code per item, NaN for items that are not gold.
        n_categories: number of categories (default: max code + 1).
        threshold: accuracy bar in (0, 1).
        min_answers: gold answers needed before an annotator can be flagged (>= 1).
        confidence: level of the Wilson interval.

    Returns:
        :class:`GoldReport`.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    gold_arr = np.asarray(gold, dtype=np.float64)
    if gold_arr.shape != (values.shape[0],):
        raise ValueError(
            f"gold must have shape ({values.shape[0]},) to match ratings {values.shape}; got {gold_arr.shape}"
        )
    as_rating_matrix(gold_arr[:, None], k, name="gold")
    check_probability(threshold, "threshold")
    check_probability(confidence, "confidence")
    if min_answers < 1:
        raise ValueError(f"min_answers must be >= 1; got {min_answers}")
    is_gold = ~np.isnan(gold_arr)
    answered = ~np.isnan(values) & is_gold[:, None]
    correct = answered & (values == gold_arr[:, None])
    n_gold = answered.sum(axis=0).astype(np.int64)
    n_correct = correct.sum(axis=0).astype(np.int64)
    has = n_gold > 0
    accuracy = np.full(values.shape[1], np.nan)
    ci_low = np.full(values.shape[1], np.nan)
    ci_high = np.full(values.shape[1], np.nan)
    accuracy[has] = n_correct[has] / n_gold[has]
    if has.any():
        low, high = proportion_confint(n_correct[has], n_gold[has], alpha=1 - confidence, method="wilson")
        # Clip float noise (e.g. 5e-17 for 0 of 3) so that low <= accuracy <= high holds.
        ci_low[has] = np.clip(low, 0.0, accuracy[has])
        ci_high[has] = np.clip(high, accuracy[has], 1.0)
    flagged = (n_gold >= min_answers) & (np.nan_to_num(accuracy, nan=1.0) < threshold)
    return GoldReport(
        n_gold=n_gold,
        n_correct=n_correct,
        accuracy=accuracy,
        ci_low=ci_low,
        ci_high=ci_high,
        flagged=flagged,
        threshold=float(threshold),
        min_answers=int(min_answers),
    )
