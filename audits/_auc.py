"""Rank AUC by binary search over sorted scores (ties count one half)."""

from __future__ import annotations

import numpy as np

from audits._validation import FloatArray


def greater(sorted_pos: FloatArray, values: FloatArray) -> float:
    """Sum over ``values`` of (#sorted_pos above it + half the ties)."""
    right = np.searchsorted(sorted_pos, values, side="right")
    left = np.searchsorted(sorted_pos, values, side="left")
    return float((sorted_pos.shape[0] - right).sum() + 0.5 * (right - left).sum())


def less(sorted_neg: FloatArray, values: FloatArray) -> float:
    """Sum over ``values`` of (#sorted_neg below it + half the ties)."""
    right = np.searchsorted(sorted_neg, values, side="right")
    left = np.searchsorted(sorted_neg, values, side="left")
    return float(left.sum() + 0.5 * (right - left).sum())


def auc(pos: FloatArray, neg: FloatArray) -> float:
    """P(score of a positive > score of a negative); NaN when a side is empty."""
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    return greater(np.sort(pos), neg) / (pos.size * neg.size)
