"""Consensus labels from several annotators: majority vote and CROWDLAB.

Input: ``ratings`` of shape ``(n_items, n_annotators)``, codes ``0 .. n_categories-1``,
NaN = missing. Items nobody rated get consensus label ``-1`` and NaN scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
from cleanlab.multiannotator import (  # type: ignore[import-untyped, unused-ignore]
    get_label_quality_multiannotator,
)

from label_quality._validation import (
    FloatArray,
    IntArray,
    as_multilabel_ratings,
    as_pred_probs,
    as_rating_matrix,
)
from label_quality._votes import category_counts, tie_break_ranks, vote_winner
from label_quality.agreement import annotator_agreement_with_consensus

PredProbsSource = Literal["caller", "vote_fractions", "none"]


@dataclass(frozen=True)
class ConsensusResult:
    """Consensus labels plus per-item and per-annotator quality.

    Attributes:
        labels: ``(n_items,)`` consensus code, -1 for items without ratings.
        item_quality: ``(n_items,)`` in [0, 1], higher = more trustworthy consensus
            (majority vote: share of votes for the winner; CROWDLAB:
            ``consensus_quality_score``); NaN for unrated items.
        n_ratings: ``(n_items,)`` number of ratings per item.
        annotator_quality: ``(n_annotators,)`` in [0, 1], higher = better annotator
            (majority vote: agreement with the leave-one-out majority of the others;
            CROWDLAB: ``annotator_quality``); NaN for annotators without ratings.
        annotator_agreement: ``(n_annotators,)`` share of the annotator's ratings equal
            to the consensus label (their own vote included); NaN without ratings.
        method: ``"majority_vote"`` or ``"crowdlab"``.
        pred_probs_source: where CROWDLAB's model probabilities came from
            (``"caller"``, ``"vote_fractions"`` fallback, or ``"none"`` for majority vote).
    """

    labels: IntArray
    item_quality: FloatArray
    n_ratings: IntArray
    annotator_quality: FloatArray
    annotator_agreement: FloatArray
    method: str
    pred_probs_source: PredProbsSource


def _agreement_with(values: FloatArray, labels: IntArray) -> FloatArray:
    present = ~np.isnan(values)
    same = (values == labels[:, None].astype(np.float64)) & present
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = same.sum(axis=0) / n
    return np.where(n > 0, share, np.nan)


def majority_vote(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
    *,
    tie_break: Literal["prior"] | Sequence[int] = "prior",
) -> ConsensusResult:
    """Plurality vote per item with deterministic tie-breaking.

    Tie-breaking: with ``"prior"`` (default) a tie goes to the category used most often
    in the whole matrix (the empirical class prior), and if that also ties, to the lower
    code. Pass an explicit priority order instead, e.g. ``[1, 0]`` to resolve binary
    ties toward toxic (a conservative choice for safety data), or ``[2, 0, 1]`` to make
    a split preference vote a tie. No randomness is involved.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).
        tie_break: ``"prior"`` or a permutation of ``0..n_categories-1``.

    Returns:
        :class:`ConsensusResult` (``method="majority_vote"``).
    """
    values, k = as_rating_matrix(ratings, n_categories)
    counts = category_counts(values, k)
    labels = vote_winner(counts, tie_break_ranks(counts, tie_break))
    return consensus_from_labels(values, labels, k)


def consensus_from_labels(
    ratings: npt.ArrayLike, labels: npt.ArrayLike, n_categories: int | None = None
) -> ConsensusResult:
    """A vote-based consensus whose labels the caller decided (e.g. by a named tie rule that a
    plain plurality cannot express, such as "a split vote is the tie category").

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        labels: ``(n_items,)`` consensus code per item, -1 = no label (abstained or unrated).
        n_categories: number of categories (default: max code + 1).

    Returns:
        :class:`ConsensusResult` (``method="majority_vote"``) whose ``item_quality`` is the
        share of the votes given to the most-voted category (NaN without votes), whatever the
        tie rule chose; annotator agreement counts an annotator's ratings equal to ``labels``.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    codes = np.asarray(labels)
    if codes.shape != (values.shape[0],):
        raise ValueError(f"labels must have shape ({values.shape[0]},), got {codes.shape}")
    if codes.size and (not np.issubdtype(codes.dtype, np.integer) or codes.min() < -1 or codes.max() >= k):
        raise ValueError(f"labels must be integer codes in -1..{k - 1}")
    codes = codes.astype(np.int64)
    counts = category_counts(values, k)
    n_ratings = counts.sum(axis=1)
    rated = n_ratings > 0
    item_quality = np.full(values.shape[0], np.nan)
    item_quality[rated] = counts[rated].max(axis=1) / n_ratings[rated]
    loo = annotator_agreement_with_consensus(values, k)
    return ConsensusResult(
        labels=codes,
        item_quality=item_quality,
        n_ratings=n_ratings,
        annotator_quality=loo.agreement,
        annotator_agreement=_agreement_with(values, codes),
        method="majority_vote",
        pred_probs_source="none",
    )


def vote_fraction_pred_probs(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
    *,
    smoothing: float = 1.0,
) -> FloatArray:
    """Stand-in "model" probabilities from smoothed vote shares, for CROWDLAB without a model.

    ``p_ik = (count_ik + smoothing) / (n_i + n_categories * smoothing)``.

    These are derived from the very ratings CROWDLAB scores, so they add no independent
    evidence: consensus then mostly follows the (quality-weighted) majority and
    CROWDLAB's advantage over majority vote comes only from annotator weighting. Use
    out-of-fold classifier probabilities whenever a model exists.

    Returns:
        ``(n_items, n_categories)`` rows summing to 1 (uniform for unrated items).
    """
    values, k = as_rating_matrix(ratings, n_categories)
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0; got {smoothing}")
    counts = category_counts(values, k).astype(np.float64)
    probs: FloatArray = (counts + smoothing) / (counts.sum(axis=1, keepdims=True) + k * smoothing)
    return probs


def crowdlab(
    ratings: npt.ArrayLike,
    pred_probs: npt.ArrayLike | None = None,
    *,
    n_categories: int | None = None,
    smoothing: float = 1.0,
    tie_break: Sequence[int] | None = None,
) -> ConsensusResult:
    """CROWDLAB consensus and quality scores (``cleanlab.multiannotator``).

    Runs ``get_label_quality_multiannotator`` on the rated items and the annotators
    with at least one rating; the rest get -1 / NaN.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing. At least one item
            needs two ratings (CROWDLAB estimates annotator quality from overlap).
        pred_probs: ``(n_items, n_categories)`` model probabilities, ideally
            out-of-fold (:func:`label_quality.issues.out_of_fold_pred_probs` trained on
            the majority-vote labels). ``None``: fall back to
            :func:`vote_fraction_pred_probs` (see its caveat); the result records which.
        n_categories: number of categories (default: ``pred_probs`` width, else max
            code + 1).
        smoothing: Laplace smoothing of the fallback.
        tie_break: priority order of codes for exact ties in the probabilities (first wins;
            default: lower code first), e.g. ``[1, 0]`` toward toxic. Decided per item: never
            by cleanlab's class frequencies or its unseeded random choice.

    Returns:
        :class:`ConsensusResult` (``method="crowdlab"``).
    """
    if n_categories is None and pred_probs is not None:
        n_categories = int(np.asarray(pred_probs).shape[-1])
    values, k = as_rating_matrix(ratings, n_categories)
    source: PredProbsSource
    if pred_probs is None:
        probs = vote_fraction_pred_probs(values, k, smoothing=smoothing)
        source = "vote_fractions"
    else:
        probs = as_pred_probs(pred_probs, values.shape[0], k)
        source = "caller"
    present = ~np.isnan(values)
    n_ratings = present.sum(axis=1).astype(np.int64)
    rows = np.flatnonzero(n_ratings > 0)
    cols = np.flatnonzero(present.any(axis=0))
    if not np.any(n_ratings >= 2):
        raise ValueError(
            f"CROWDLAB needs at least one item with two ratings; ratings of shape "
            f"{values.shape} have at most one per item (use majority_vote, or "
            "label_quality.issues.find_label_issues on the single labels)"
        )
    frame = pd.DataFrame(values[np.ix_(rows, cols)], columns=cols)
    order = list(range(k)) if tie_break is None else list(tie_break)
    if sorted(order) != list(range(k)):
        raise ValueError(f"tie_break must be a permutation of 0..{k - 1}; got {order}")
    out = get_label_quality_multiannotator(frame, _settle_exact_ties(probs[rows], order), verbose=False)
    quality = out["label_quality"]
    stats = out["annotator_stats"].reindex(cols)

    labels = np.full(values.shape[0], -1, dtype=np.int64)
    labels[rows] = quality["consensus_label"].to_numpy(dtype=np.int64)
    item_quality = np.full(values.shape[0], np.nan)
    item_quality[rows] = quality["consensus_quality_score"].to_numpy(dtype=np.float64)
    annotator_quality = np.full(values.shape[1], np.nan)
    annotator_quality[cols] = stats["annotator_quality"].to_numpy(dtype=np.float64)
    return ConsensusResult(
        labels=labels,
        item_quality=item_quality,
        n_ratings=n_ratings,
        annotator_quality=annotator_quality,
        annotator_agreement=_agreement_with(values, labels),
        method="crowdlab",
        pred_probs_source=source,
    )


# Far below any difference a model or a vote share makes, far above float rounding.
_TIE_NUDGE = 1e-9


def _settle_exact_ties(probs: FloatArray, order: Sequence[int]) -> FloatArray:
    """Probabilities with exact ties nudged apart, ``order[0]`` first.

    cleanlab breaks a tied vote by the model's probabilities, then by class frequencies over
    all items, then by annotator scores, and finally with the global ``np.random``; with
    vote-fraction probabilities every tied vote ties there too, so labels would depend on other
    items and on unseeded randomness, and the third step fails outright when every item is
    tied. A nudge this small only decides exact ties, and decides them from the item alone.
    """
    k = probs.shape[1]
    bonus = np.empty(k, dtype=np.float64)
    bonus[np.asarray(order, dtype=np.int64)] = np.arange(k - 1, -1, -1, dtype=np.float64)
    nudged = probs + _TIE_NUDGE * bonus[None, :]
    out: FloatArray = nudged / nudged.sum(axis=1, keepdims=True)
    return out


def multilabel_consensus(
    ratings: npt.ArrayLike,
    pred_probs: npt.ArrayLike | None = None,
    *,
    method: Literal["crowdlab", "majority_vote"] = "crowdlab",
    tie_break: Literal["prior"] | Sequence[int] = "prior",
    crowdlab_tie_break: Sequence[int] | None = None,
) -> list[ConsensusResult]:
    """Consensus for each label of multi-label ratings, each label a binary category.

    Args:
        ratings: ``(n_items, n_annotators, n_labels)`` of 0/1/NaN.
        pred_probs: ``(n_items, n_labels)`` probability that each label is present
            (CROWDLAB only; ``None`` = vote-fraction fallback per label).
        method: ``"crowdlab"`` or ``"majority_vote"``.
        tie_break: passed to :func:`majority_vote`.

    Returns:
        ``n_labels`` :class:`ConsensusResult`, in label order.
    """
    values = as_multilabel_ratings(ratings)
    n_labels = values.shape[2]
    probs: FloatArray | None = None
    if pred_probs is not None:
        probs = as_pred_probs(pred_probs, values.shape[0], n_labels, rows_sum_to_one=False)
    results: list[ConsensusResult] = []
    for j in range(n_labels):
        if method == "majority_vote":
            results.append(majority_vote(values[:, :, j], 2, tie_break=tie_break))
        elif method == "crowdlab":
            binary = None if probs is None else np.column_stack([1 - probs[:, j], probs[:, j]])
            results.append(crowdlab(values[:, :, j], binary, n_categories=2, tie_break=crowdlab_tie_break))
        else:
            raise ValueError(f"method must be 'crowdlab' or 'majority_vote'; got {method!r}")
    return results
