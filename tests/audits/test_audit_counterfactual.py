"""Score gaps between identity-swapped pairs."""

from __future__ import annotations

import numpy as np
import pytest

from audits import counterfactual_gaps


def test_gap_quantiles_and_the_largest_pairs() -> None:
    a = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    b = np.array([0.1, 0.1, 0.7, 0.9, 0.35])
    report = counterfactual_gaps(a, b, top_k=2, quantiles=(0.5, 1.0), tolerances=(0.1,))
    assert report.n_pairs == 5
    assert report.quantiles == {0.5: pytest.approx(0.05), 1.0: pytest.approx(0.5)}
    assert report.share_above == {0.1: pytest.approx(0.4)}
    assert [p.position for p in report.largest] == [2, 1]
    assert report.largest[0].gap == pytest.approx(0.5) and report.largest[1].gap == pytest.approx(-0.4)
    assert report.mean_abs_gap == pytest.approx((0.4 + 0.5 + 0.05) / 5)


def test_a_consistent_model_has_no_gap() -> None:
    s = np.random.default_rng(0).random(50)
    report = counterfactual_gaps(s, s.copy())
    assert report.quantiles[1.0] == 0.0 and report.mean_abs_gap == 0.0


def test_it_rejects_pairs_of_different_length() -> None:
    with pytest.raises(ValueError, match=r"scores_b has shape \(2,\) but there are 3 items"):
        counterfactual_gaps([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="quantiles must lie in"):
        counterfactual_gaps([0.1], [0.2], quantiles=(1.5,))
