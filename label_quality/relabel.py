"""Relabel order: after a policy shift, which old labels are most likely to change.

An item's chance that its old label changes is what a model's out-of-fold probabilities give
the other classes: ``1 - P(old label)`` (for a binary label, ``|P(positive) - old|``). The
probabilities must come from a model that never saw the item's own old label (see
:func:`label_quality.out_of_fold_where_trainable`): a model scoring its own training items
agrees with the labels it was fitted to, so it cannot say which of them to doubt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from label_quality._validation import FloatArray, IntArray


@dataclass(frozen=True)
class RelabelOrder:
    """``order``: ``(n,)`` positions, most likely to change first (ties keep position order);
    ``change``: ``(n,)`` each position's ``1 - P(old label)``."""

    order: IntArray
    change: FloatArray


def relabel_order(old_labels: npt.ArrayLike, pred_probs: npt.ArrayLike) -> RelabelOrder:
    """Order items by how likely their old label changes.

    Args:
        old_labels: ``(n,)`` class codes ``0..k-1`` of the old labels.
        pred_probs: ``(n, k)`` class probabilities, rows summing to 1.
    """
    codes = np.asarray(old_labels)
    probs = np.asarray(pred_probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"pred_probs must be 2-D (n_items, n_classes); got shape {probs.shape}")
    if codes.ndim != 1 or codes.shape[0] != probs.shape[0]:
        raise ValueError(f"old_labels must have shape ({probs.shape[0]},); got {codes.shape}")
    if codes.size and (
        not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0 or codes.max() >= probs.shape[1]
    ):
        raise ValueError(f"old_labels must be integer codes 0..{probs.shape[1] - 1}")
    if not np.isfinite(probs).all():
        raise ValueError(f"pred_probs of shape {probs.shape} must be finite")
    rows = np.arange(codes.shape[0])
    change = 1.0 - probs[rows, codes.astype(np.int64)]
    order = np.argsort(-change, kind="stable").astype(np.int64)
    return RelabelOrder(order=order, change=change)
