"""Vote counting and deterministic tie-breaking shared by agreement and consensus."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from label_quality._validation import FloatArray, IntArray


def category_counts(ratings: FloatArray, n_categories: int) -> IntArray:
    """``(n_items, n_categories)`` number of ratings of each category per item."""
    rows, cols = np.nonzero(~np.isnan(ratings))
    # One bincount over (row, code) cells: far faster than np.add.at on large matrices.
    cells = rows * n_categories + ratings[rows, cols].astype(np.int64)
    counts = np.bincount(cells, minlength=ratings.shape[0] * n_categories)
    return counts.reshape(ratings.shape[0], n_categories).astype(np.int64, copy=False)


def tie_break_ranks(counts: IntArray, tie_break: str | Sequence[int]) -> IntArray:
    """Rank of each category when votes tie (0 = wins first); shape ``(n_categories,)``.

    ``"prior"``: the category rated most often in the whole matrix wins, then the
    lower code. A sequence: explicit priority order of codes, first wins (e.g.
    ``[1, 0]`` resolves binary ties toward toxic).
    """
    n_categories = counts.shape[1]
    if isinstance(tie_break, str):
        if tie_break != "prior":
            raise ValueError(f"tie_break must be 'prior' or a sequence of codes; got {tie_break!r}")
        totals = counts.sum(axis=0)
        # Stable sort on descending totals: equal totals keep code order.
        order = np.argsort(-totals, kind="stable")
    else:
        order = np.asarray(list(tie_break), dtype=np.int64)
        if sorted(order.tolist()) != list(range(n_categories)):
            raise ValueError(
                f"tie_break order must be a permutation of 0..{n_categories - 1}; got {order.tolist()}"
            )
    ranks = np.empty(n_categories, dtype=np.int64)
    ranks[order] = np.arange(n_categories)
    return ranks


def vote_winner(counts: IntArray, ranks: IntArray) -> IntArray:
    """Most-voted category per item, ties resolved by ``ranks``; -1 where no votes."""
    n_categories = counts.shape[1]
    # Integer key: vote count dominates, the tie rank only separates equal counts.
    key = counts * n_categories + (n_categories - 1 - ranks)[None, :]
    winner: IntArray = np.argmax(key, axis=1).astype(np.int64)
    winner[counts.sum(axis=1) == 0] = -1
    return winner
