"""A queue that needs no model: split votes first, distinct prompts, a share of gold items.

For preference pairs a model on frozen embeddings is at chance (HH-RLHF: 0.50 in 5-fold), so its
uncertainty ranks noise. What the workbench does know without a model is each item's counted
votes. An item's consensus is *confident* when the most-voted class leads the runner-up by at
least ``confident_margin`` votes (2 by default: under annotators who are each right 75 % of the
time, a two-vote lead is a posterior of 0.9). Items are ranked in tiers:

1. *split*: at least two votes and not confident (A against B, or either against tie), fewest
   votes still needed first: another annotator is worth most where the crowd disagrees;
2. *started*: some votes, fewer than ``min_annotations`` (the project's overlap);
3. *fresh*: no votes yet.

Ineligible (``-inf``): items with ``max_annotations`` votes (the cap), and items that already
have ``min_annotations`` votes and are confident. A split item that can no longer become
confident within the cap stays eligible: one more vote still breaks a tie or widens a lead.
Ties inside a tier are broken by the given Generator.

The batch is then taken in score order with two rules: ``gold_share`` of it goes to items with a
gold label (spread evenly through the batch), and no two items of a batch have near-identical
prompts (cosine similarity of their prompt embeddings at least ``prompt_similarity``); skipped
items wait for the next batch unless nothing else is left.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError
from .selection import check_scores
from .validation import as_2d_float, check_k, check_rng, shape_of

DEFAULT_CONFIDENT_MARGIN = 2
DEFAULT_GOLD_SHARE = 0.1
DEFAULT_PROMPT_SIMILARITY = 0.9


def check_vote_counts(counts: Any, n: int | None = None) -> NDArray[np.float64]:
    """Counted votes per class, shape (n, n_classes >= 2), whole numbers >= 0."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InvalidInputError(f"vote_counts must have shape (n, n_classes>=2); got {shape_of(arr)}")
    if n is not None and arr.shape[0] != n:
        raise InvalidInputError(f"vote_counts {shape_of(arr)} must have one row per pool item (n={n})")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise InvalidInputError("vote_counts must hold whole numbers of votes >= 0")
    return arr


def vote_margin(counts: Any) -> NDArray[np.float64]:
    """Lead of the most-voted class over the runner-up. (n, c) -> (n,)."""
    arr = check_vote_counts(counts)
    top2 = np.sort(arr, axis=1)[:, -2:]
    margin: NDArray[np.float64] = top2[:, 1] - top2[:, 0]
    return margin


def is_confident(counts: Any, confident_margin: int = DEFAULT_CONFIDENT_MARGIN) -> NDArray[np.bool_]:
    """Whether each item's consensus leads by at least ``confident_margin`` votes. (n, c) -> (n,)."""
    if confident_margin < 1:
        raise InvalidInputError(f"confident_margin must be >= 1; got {confident_margin}")
    confident: NDArray[np.bool_] = vote_margin(counts) >= confident_margin
    return confident


def split_vote_scores(
    counts: Any,
    rng: np.random.Generator,
    *,
    min_annotations: int | None = None,
    max_annotations: int | None = None,
    confident_margin: int = DEFAULT_CONFIDENT_MARGIN,
) -> NDArray[np.float64]:
    """Priority per item from its counted votes (n, c) -> (n,): split > started > fresh, ``-inf``
    for ineligible items (see the module docstring); ties broken by ``rng``."""
    arr = check_vote_counts(counts)
    check_rng(rng)
    for name, value in (("min_annotations", min_annotations), ("max_annotations", max_annotations)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{name} must be >= 1 or None; got {value}")
    if confident_margin < 1:
        raise InvalidInputError(f"confident_margin must be >= 1; got {confident_margin}")
    total = arr.sum(axis=1)
    need = np.maximum(0.0, confident_margin - vote_margin(arr))  # agreeing votes still needed
    jitter = rng.random(arr.shape[0])
    split = (total >= 2) & (need > 0)
    # Tier 3 + [0, 0.5): fewer votes needed ranks higher; jitter in [0, 0.1) breaks ties.
    scores = np.where(
        split,
        3.0 + 0.5 / (1.0 + need) + 0.1 * jitter,
        np.where(total > 0, 2.0 + 0.1 * jitter, 1.0 + 0.1 * jitter),
    )
    if max_annotations is not None:
        scores[total >= max_annotations] = -np.inf
    if min_annotations is not None:
        scores[(total >= min_annotations) & (need == 0)] = -np.inf
    return np.asarray(scores, dtype=np.float64)


def _unit_rows(features: Any, n: int) -> NDArray[np.float32]:
    F = as_2d_float(features, "prompt_features")
    if F.shape[0] != n:
        raise InvalidInputError(f"prompt_features {shape_of(F)} must have one row per pool item (n={n})")
    U = np.asarray(F, dtype=np.float32)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    unit: NDArray[np.float32] = U / np.where(norms > 0, norms, 1.0)
    return unit


def _distinct_prompts(
    order: NDArray[np.intp], unit: NDArray[np.float32], k: int, similarity: float
) -> list[int]:
    """Walk ``order`` (best first) and keep items whose prompt is not near-identical to a kept
    one, until ``k`` are kept; then fill up with the skipped ones, in order."""
    kept: list[int] = []
    skipped: list[int] = []
    for position in order:
        p = int(position)
        if len(kept) == k:
            break
        if kept and float(np.max(unit[kept] @ unit[p])) >= similarity:
            skipped.append(p)
            continue
        kept.append(p)
    return kept + skipped[: k - len(kept)]


def gold_mixed_top_k(
    scores: Any,
    k: int,
    *,
    rng: np.random.Generator,
    prompt_features: Any,
    gold: Any = None,
    gold_share: float = DEFAULT_GOLD_SHARE,
    prompt_similarity: float = DEFAULT_PROMPT_SIMILARITY,
) -> NDArray[np.intp]:
    """k positions: ``round(gold_share * k)`` of them gold items (gold: (n,) bool), spread evenly,
    the rest non-gold; each part in score order with distinct prompts (prompt_features: (n, d)).

    A part that runs short is filled from the other; ``-inf`` items are never taken.
    scores (n,) -> (k,) positions in serving order.
    """
    s = check_scores(scores)
    check_rng(rng)
    n = s.shape[0]
    eligible = np.isfinite(s)
    k = check_k(k, n, eligible=int(eligible.sum()))
    if not 0.0 <= gold_share <= 1.0:
        raise InvalidInputError(f"gold_share must be in [0, 1]; got {gold_share}")
    if not 0.0 < prompt_similarity <= 1.0:
        raise InvalidInputError(f"prompt_similarity must be in (0, 1]; got {prompt_similarity}")
    is_gold = np.zeros(n, dtype=bool) if gold is None else np.asarray(gold, dtype=bool)
    if is_gold.shape != (n,):
        raise InvalidInputError(f"gold must have shape (n={n},); got {shape_of(is_gold)}")
    unit = _unit_rows(prompt_features, n)
    jitter = rng.random(n)
    order = np.lexsort((jitter, -s))
    order = order[eligible[order]]
    gold_order, other_order = order[is_gold[order]], order[~is_gold[order]]
    want_gold = min(int(round(gold_share * k)), gold_order.shape[0])
    want_other = min(k - want_gold, other_order.shape[0])
    want_gold = k - want_other  # fill a short non-gold part with gold
    golds = _distinct_prompts(gold_order, unit, want_gold, prompt_similarity)
    others = _distinct_prompts(other_order, unit, want_other, prompt_similarity)
    batch: list[int] = []
    g = o = 0
    for i in range(k):
        # Gold where the running share passes the middle of the next gold item's share: evenly spread.
        if g < len(golds) and (o >= len(others) or (2 * g + 1) * k <= 2 * (i + 1) * len(golds)):
            batch.append(golds[g])
            g += 1
        else:
            batch.append(others[o])
            o += 1
    return np.asarray(batch, dtype=np.intp)
