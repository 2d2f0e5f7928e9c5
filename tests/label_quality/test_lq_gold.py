"""Gold-item accuracy and annotator flagging."""

from __future__ import annotations

import numpy as np
import pytest

from label_quality import gold_report

NAN = np.nan


def _ratings_with_gold() -> tuple[np.ndarray, np.ndarray]:
    # 12 gold items (truth alternating 0/1) + 3 non-gold items.
    gold = np.array([0, 1] * 6 + [NAN] * 3)
    good = np.array([0, 1] * 6 + [1, 1, 1], dtype=float)
    sloppy = good.copy()
    sloppy[[0, 1, 2, 3, 4]] = 1 - sloppy[[0, 1, 2, 3, 4]]  # 7 of 12 right
    newcomer = np.full(15, NAN)
    newcomer[[0, 1, 2]] = [1, 0, 1]  # 0 of 3 right, but only 3 answers
    return np.column_stack([good, sloppy, newcomer, np.full(15, NAN)]), gold


def test_it_scores_and_flags_annotators_below_the_threshold() -> None:
    ratings, gold = _ratings_with_gold()
    report = gold_report(ratings, gold, threshold=0.8, min_answers=10)
    np.testing.assert_array_equal(report.n_gold, [12, 12, 3, 0])
    np.testing.assert_array_equal(report.n_correct, [12, 7, 0, 0])
    np.testing.assert_allclose(report.accuracy[:3], [1.0, 7 / 12, 0.0])
    assert np.isnan(report.accuracy[3])
    # The newcomer is worse but has too few gold answers to be flagged yet.
    np.testing.assert_array_equal(report.flagged, [False, True, False, False])


def test_it_reports_a_wilson_interval_around_the_accuracy() -> None:
    ratings, gold = _ratings_with_gold()
    report = gold_report(ratings, gold)
    has = report.n_gold > 0
    assert (report.ci_low[has] <= report.accuracy[has]).all()
    assert (report.accuracy[has] <= report.ci_high[has]).all()
    # Wilson interval for 7/12 at 95%: (0.320, 0.807).
    assert report.ci_low[1] == pytest.approx(0.3196, abs=1e-3)
    assert report.ci_high[1] == pytest.approx(0.8067, abs=1e-3)
    assert np.isnan(report.ci_low[3])


def test_min_answers_controls_when_flagging_starts() -> None:
    ratings, gold = _ratings_with_gold()
    report = gold_report(ratings, gold, threshold=0.8, min_answers=3)
    np.testing.assert_array_equal(report.flagged, [False, True, True, False])


def test_it_validates_gold_and_thresholds() -> None:
    ratings, gold = _ratings_with_gold()
    with pytest.raises(ValueError, match=r"gold must have shape \(15,\)"):
        gold_report(ratings, gold[:5])
    with pytest.raises(ValueError, match="threshold must be in"):
        gold_report(ratings, gold, threshold=1.5)
    with pytest.raises(ValueError, match="min_answers"):
        gold_report(ratings, gold, min_answers=0)
    with pytest.raises(ValueError, match="gold of shape"):
        gold_report(ratings, np.where(np.isnan(gold), -1, gold))
