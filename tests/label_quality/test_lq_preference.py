"""Bias audits of preference labels (library tier: no database, fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import label_quality as lq


def test_an_annotator_who_always_picks_the_first_shown_is_flagged_and_a_balanced_one_is_not() -> None:
    bias = lq.position_bias([30, 15, 0], [30, 30, 0])
    assert bias.flagged.tolist() == [True, False, False]
    assert bias.rate[0] == 1.0 and bias.rate[1] == 0.5 and math.isnan(bias.rate[2])
    assert bias.p_value[0] < 1e-8 and bias.p_value[1] == pytest.approx(1.0)
    assert bias.ci_low[0] > 0.85 and bias.ci_low[1] < 0.5 < bias.ci_high[1]


def test_honest_annotators_are_flagged_at_most_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(0)
    n = np.full(4000, 60)
    flagged = lq.position_bias(rng.binomial(n, 0.5), n, alpha=0.05).flagged.mean()
    assert flagged <= 0.05
    biased = lq.position_bias(rng.binomial(n, 0.8), n, alpha=0.05).flagged.mean()
    assert biased > 0.95


def test_position_bias_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="n_first <= n"):
        lq.position_bias([5], [4])
    with pytest.raises(ValueError, match="one length"):
        lq.position_bias([1, 2], [3])


def test_the_longer_chosen_share_leaves_out_equal_lengths_and_splits_by_group() -> None:
    overall, groups = lq.longer_chosen([10, 20, 5, 7, 7], [5, 10, 9, 3, 7], groups=["x", "x", "y", "y", "y"])
    assert (overall.k, overall.n) == (3, 4)
    assert overall.ci_low < 0.75 < overall.ci_high
    by = {g.group: g.share for g in groups}
    assert (by["x"].k, by["x"].n, by["y"].k, by["y"].n) == (2, 2, 1, 2)


def test_wilson_share_stays_inside_zero_one_at_the_edges() -> None:
    none = lq.wilson_share(0, 12)
    assert none.ci_low == 0.0 and 0 < none.ci_high < 0.3
    assert math.isnan(lq.wilson_share(0, 0).share)
    with pytest.raises(ValueError):
        lq.wilson_share(3, 2)


def test_agreement_is_averaged_within_length_ratio_bins() -> None:
    bins = lq.agreement_by_length_ratio(
        [10, 10, 30, 100, 0, 5], [10, 11, 10, 10, 4, 5], [1.0, 0.5, 0.75, 1.0, 1.0, math.nan]
    )
    by_low = {b.low: b for b in bins}
    assert (by_low[1.0].n_items, by_low[1.0].mean_agreement) == (2, 0.75)  # ratios 1.0, 1.1
    assert by_low[2.0].n_items == 1 and by_low[2.0].mean_agreement == 0.75  # ratio 3
    assert by_low[4.0].n_items == 2 and by_low[4.0].high == math.inf  # ratio 10 and an empty side
    assert by_low[1.25].n_items == 0 and math.isnan(by_low[1.25].mean_agreement)


def test_near_identical_pairs_are_found_by_text_and_by_embedding() -> None:
    a = ["Sure,  here it is.\n", "I cannot help with that request at all, sorry.", "yes", "apples"]
    b = ["Sure, here it is.", "I cannot help with that request at all, sorry!", "no", "oranges"]
    found = lq.near_identical_pairs(a, b)
    assert [(f.position, f.reason) for f in found][0] == (0, "equal text")
    assert [f.position for f in found] == [0, 1] and found[1].reason.startswith("character similarity")
    same = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    other = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0001], [0.0, 1.0]])
    found = lq.near_identical_pairs(a, b, embeddings=(same, other))
    assert [f.position for f in found] == [0, 1, 2] and found[2].reason.startswith("embedding cosine")
