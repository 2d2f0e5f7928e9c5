"""Inter-annotator agreement on an items x annotators matrix of nominal category codes.

Input everywhere: ``ratings`` of shape ``(n_items, n_annotators)``, category codes
``0 .. n_categories-1`` with **NaN for a missing rating** (see :mod:`label_quality.ratings`).
Items with fewer than two ratings carry no information about agreement and are ignored
by every statistic here. A statistic that is undefined (no item with two ratings, or
chance agreement equal to 1 because everybody used one category) is returned as NaN,
never raised, so dashboards can show "n/a" for a thin round.

Binary toxicity and preference (A / B / tie as three categories) use these functions
directly; multi-label ratings ``(n_items, n_annotators, n_labels)`` go through
:func:`per_label` / :func:`multilabel_agreement`, each label a binary category.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np
import numpy.typing as npt
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.inter_rater import (  # type: ignore[import-untyped, unused-ignore]
    fleiss_kappa as _sm_fleiss_kappa,
)

from label_quality._validation import (
    FloatArray,
    IntArray,
    as_multilabel_ratings,
    as_rating_matrix,
)
from label_quality._votes import category_counts, tie_break_ranks, vote_winner


def _multi_rated(counts: IntArray) -> IntArray:
    """Counts restricted to items with at least two ratings."""
    multi: IntArray = counts[counts.sum(axis=1) >= 2]
    return multi


def _mean_pairwise_agreement(counts: IntArray) -> float:
    n_i = counts.sum(axis=1).astype(np.float64)
    agree = (counts * (counts - 1)).sum(axis=1) / (n_i * (n_i - 1))
    return float(agree.mean())


def percent_agreement(ratings: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Mean pairwise percent agreement.

    For each item with ``n_i >= 2`` ratings, the share of its ``n_i (n_i - 1)`` ordered
    rater pairs that gave the same category; averaged over those items (this is
    Fleiss' ``P-bar``). With two raters per item it is the plain share of items on
    which they agree.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).

    Returns:
        A value in [0, 1]; NaN when no item has two ratings.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    return percent_agreement_from_counts(category_counts(values, k))


def percent_agreement_from_counts(counts: npt.ArrayLike) -> float:
    """:func:`percent_agreement` from the ``(n_items, n_categories)`` table of how many ratings
    of each category every item got (see :func:`multi_rated_counts`)."""
    multi = _multi_rated(np.asarray(counts, dtype=np.int64))
    if multi.shape[0] == 0:
        return float("nan")
    return _mean_pairwise_agreement(multi)


def fleiss_kappa(ratings: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Fleiss' kappa, with a documented generalisation to a varying number of raters.

    Items with fewer than two ratings are dropped. Then:

    * every remaining item has the same number of ratings ``n``: the classic Fleiss
      (1971) statistic, computed by ``statsmodels.stats.inter_rater.fleiss_kappa`` on
      the items x categories count table (what ``aggregate_raters`` would build);
    * the number varies: Fleiss' formula does not apply as such (statsmodels asserts a
      constant count), so we use its standard generalisation (Gwet, *Handbook of
      Inter-Rater Reliability*, 4th ed., 2014, sec. 2.4): observed agreement is the
      mean over items of ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` and chance
      agreement is ``sum_k pi_k^2`` with ``pi_k`` the mean over items of ``r_ik / r_i``.
      It equals Fleiss' kappa exactly when all ``r_i`` are equal (tested), so the
      value does not jump when one straggler rating arrives.

    For data with many missing ratings prefer :func:`krippendorff_alpha`, which was
    designed for it.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).

    Returns:
        kappa (1 = perfect, 0 = chance level, < 0 = below chance); NaN when undefined.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    return fleiss_kappa_from_counts(category_counts(values, k))


def fleiss_kappa_from_counts(counts: npt.ArrayLike) -> float:
    """:func:`fleiss_kappa` from the items x categories count table."""
    counts = _multi_rated(np.asarray(counts, dtype=np.int64))
    if counts.shape[0] == 0:
        return float("nan")
    n_i = counts.sum(axis=1)
    pi = (counts / n_i[:, None]).mean(axis=0)
    p_expected = float((pi**2).sum())
    if p_expected >= 1.0 - 1e-12:
        return float("nan")
    if np.all(n_i == n_i[0]):
        # ``counts`` is the items x categories table statsmodels' ``aggregate_raters`` builds
        # (codes 0..k-1 as columns), without its per-row Python work.
        return float(_sm_fleiss_kappa(counts, method="fleiss"))
    p_observed = _mean_pairwise_agreement(counts)
    return (p_observed - p_expected) / (1.0 - p_expected)


def annotator_blind(ratings: npt.ArrayLike, *aligned: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], ...]:
    """The ratings with each item's ratings moved to the first columns and the columns nobody
    fills dropped: ``(n_items, max ratings per item)``, NaN padded; ``aligned`` arrays of the
    same shape (e.g. the week of each rating) are moved the same way and returned after it.

    For the statistics that do not ask who gave a rating (:func:`percent_agreement`,
    :func:`fleiss_kappa`, :func:`krippendorff_alpha`: they read per-item category counts) the
    result gives the same values, and a bootstrap that resamples items copies a few columns
    instead of one per annotator (30 annotators, 3 per item: a tenth of the memory traffic).
    Not for per-annotator statistics (Cohen's kappa pairs, annotator agreement).
    """
    values = np.asarray(ratings, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"ratings must be 2-D (n_items, n_annotators); got {values.shape}")
    for other in aligned:
        if np.shape(other) != values.shape:
            raise ValueError(f"aligned arrays must have shape {values.shape}; got {np.shape(other)}")
    missing = np.isnan(values)
    width = int((~missing).sum(axis=1).max(initial=0))
    order = np.argsort(missing, axis=1, kind="stable")[:, :width]
    return tuple(np.take_along_axis(np.asarray(a), order, axis=1) for a in (values, *aligned))


def krippendorff_alpha(ratings: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Krippendorff's alpha for nominal data with missing ratings.

    Computed by the ``krippendorff`` package (``level_of_measurement="nominal"``) from the
    units x values table of counts (its ``value_counts`` input: alpha depends on the ratings
    only through how often each unit got each value). Units with a single rating are not
    pairable and drop out, as in Krippendorff's definition.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).

    Returns:
        alpha (1 = perfect, 0 = chance); NaN when no item has two ratings or only one
        category was ever used.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    return krippendorff_alpha_from_counts(category_counts(values, k))


def krippendorff_alpha_from_counts(counts: npt.ArrayLike) -> float:
    """:func:`krippendorff_alpha` from the items x categories count table."""
    counts = _multi_rated(np.asarray(counts, dtype=np.int64))
    if counts.shape[0] == 0 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return float("nan")
    return float(
        krippendorff.alpha(
            value_counts=counts,
            level_of_measurement="nominal",
            value_domain=np.arange(counts.shape[1], dtype=np.float64),
        )
    )


def multi_rated_counts(ratings: npt.ArrayLike, n_categories: int | None = None) -> IntArray:
    """``(n_multi, n_categories)``: the count table of the items with at least two ratings, in
    item order. A bootstrap that resamples these rows with the ``*_from_counts`` statistics
    draws exactly the resamples :func:`~label_quality.bootstrap_ci` draws from the rating
    matrix (it resamples the same items, in the same order) and gives the same interval,
    without re-counting a matrix per resample."""
    values, k = as_rating_matrix(ratings, n_categories)
    return _multi_rated(category_counts(values, k))


def _kappa(y1: IntArray, y2: IntArray, n_categories: int) -> float:
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # Undefined kappa (both raters constant on the same category) -> NaN, quietly.
        warnings.simplefilter("ignore", RuntimeWarning)
        value = cohen_kappa_score(y1, y2, labels=np.arange(n_categories))
    return float(value)


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's kappa for every annotator pair.

    ``kappa``: ``(n_annotators, n_annotators)`` symmetric, NaN on the diagonal and for
    pairs with fewer than ``min_overlap`` co-rated items or undefined kappa.
    ``n_common``: ``(n_annotators, n_annotators)`` number of co-rated items.
    """

    kappa: FloatArray
    n_common: IntArray

    def mean(self) -> float:
        """Unweighted mean over defined pairs (Light's kappa); NaN if none."""
        upper = self.kappa[np.triu_indices_from(self.kappa, k=1)]
        upper = upper[~np.isnan(upper)]
        return float(upper.mean()) if upper.size else float("nan")


def cohen_kappa_pairwise(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
    *,
    min_overlap: int = 2,
) -> PairwiseKappa:
    """Cohen's kappa per annotator pair on the items both rated.

    Uses ``sklearn.metrics.cohen_kappa_score`` with ``labels=range(n_categories)``.

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).
        min_overlap: pairs with fewer co-rated items get NaN.

    Returns:
        :class:`PairwiseKappa` with ``(n_annotators, n_annotators)`` arrays.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    if min_overlap < 1:
        raise ValueError(f"min_overlap must be >= 1; got {min_overlap}")
    present = ~np.isnan(values)
    n_annotators = values.shape[1]
    common = present.T.astype(np.int64) @ present.astype(np.int64)
    kappa = np.full((n_annotators, n_annotators), np.nan)
    for a in range(n_annotators):
        for b in range(a + 1, n_annotators):
            if common[a, b] < min_overlap:
                continue
            both = present[:, a] & present[:, b]
            value = _kappa(values[both, a].astype(np.int64), values[both, b].astype(np.int64), k)
            kappa[a, b] = kappa[b, a] = value
    np.fill_diagonal(common, present.sum(axis=0))
    return PairwiseKappa(kappa=kappa, n_common=common)


@dataclass(frozen=True)
class AnnotatorAgreement:
    """Each annotator against the consensus of the *other* annotators.

    All arrays have shape ``(n_annotators,)``: ``n_items`` compared (items the annotator
    rated and at least one other annotator rated), ``agreement`` (share equal to the
    others' majority vote) and ``kappa`` (Cohen's kappa against it); NaN when
    ``n_items`` is 0 or kappa is undefined.
    """

    n_items: IntArray
    agreement: FloatArray
    kappa: FloatArray


def annotator_agreement_with_consensus(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
) -> AnnotatorAgreement:
    """Score each annotator against a leave-one-out majority vote.

    The consensus an annotator is compared with excludes their own rating, so an
    annotator is not rewarded for agreeing with themselves (which matters with 2-3
    ratings per item). Ties among the others are broken as in
    :func:`label_quality.consensus.majority_vote` with ``tie_break="prior"`` (the
    category most used in the whole matrix, then the lower code).

    Args:
        ratings: ``(n_items, n_annotators)`` codes, NaN = missing.
        n_categories: number of categories (default: max code + 1).

    Returns:
        :class:`AnnotatorAgreement` with ``(n_annotators,)`` arrays.
    """
    values, k = as_rating_matrix(ratings, n_categories)
    counts = category_counts(values, k)
    ranks = tie_break_ranks(counts, "prior")
    n_annotators = values.shape[1]
    n_items = np.zeros(n_annotators, dtype=np.int64)
    agreement = np.full(n_annotators, np.nan)
    kappa = np.full(n_annotators, np.nan)
    for a in range(n_annotators):
        rated = ~np.isnan(values[:, a])
        own = values[rated, a].astype(np.int64)
        others = counts[rated].copy()
        others[np.arange(own.size), own] -= 1
        consensus = vote_winner(others, ranks)
        usable = consensus >= 0
        n_items[a] = int(usable.sum())
        if n_items[a] == 0:
            continue
        agreement[a] = float(np.mean(own[usable] == consensus[usable]))
        kappa[a] = _kappa(own[usable], consensus[usable], k)
    return AnnotatorAgreement(n_items=n_items, agreement=agreement, kappa=kappa)


@dataclass(frozen=True)
class AgreementSummary:
    """All agreement statistics of one rating matrix (one label for multi-label).

    ``n_items``: rows; ``n_items_multi_rated``: rows with >= 2 ratings (the ones every
    statistic uses); ``n_ratings``: non-missing entries. Statistics as in the functions
    of the same name; ``mean_cohen_kappa`` is the mean of :func:`cohen_kappa_pairwise`
    over defined pairs.
    """

    n_items: int
    n_items_multi_rated: int
    n_annotators: int
    n_ratings: int
    percent_agreement: float
    fleiss_kappa: float
    krippendorff_alpha: float
    mean_cohen_kappa: float


def agreement_summary(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
    *,
    min_overlap: int = 2,
) -> AgreementSummary:
    """Compute every agreement statistic for ``(n_items, n_annotators)`` ratings."""
    values, k = as_rating_matrix(ratings, n_categories)
    n_per_item = np.sum(~np.isnan(values), axis=1)
    return AgreementSummary(
        n_items=int(values.shape[0]),
        n_items_multi_rated=int(np.sum(n_per_item >= 2)),
        n_annotators=int(values.shape[1]),
        n_ratings=int(n_per_item.sum()),
        percent_agreement=percent_agreement(values, k),
        fleiss_kappa=fleiss_kappa(values, k),
        krippendorff_alpha=krippendorff_alpha(values, k),
        mean_cohen_kappa=cohen_kappa_pairwise(values, k, min_overlap=min_overlap).mean(),
    )


def per_label(
    statistic: Callable[[FloatArray], float],
    ratings: npt.ArrayLike,
) -> FloatArray:
    """Apply a binary statistic to each label of multi-label ratings.

    Args:
        statistic: e.g. :func:`fleiss_kappa`; called with ``(n_items, n_annotators)``.
        ratings: ``(n_items, n_annotators, n_labels)`` of 0/1/NaN.

    Returns:
        ``(n_labels,)`` values.
    """
    values = as_multilabel_ratings(ratings)
    return np.array([statistic(values[:, :, j]) for j in range(values.shape[2])])


def multilabel_agreement(ratings: npt.ArrayLike, *, min_overlap: int = 2) -> list[AgreementSummary]:
    """:func:`agreement_summary` for each label (binary) of ``(n_items, n_annotators,
    n_labels)`` ratings; returns ``n_labels`` summaries in label order."""
    values = as_multilabel_ratings(ratings)
    return [agreement_summary(values[:, :, j], 2, min_overlap=min_overlap) for j in range(values.shape[2])]
