"""Operating points, PR-curve cuts and intervals for the round pages (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import InvalidInputError
from active_learning import evaluation as ev
from active_learning.metrics import binary_metrics, choose_threshold


def test_operating_points_count_errors_and_cost_as_the_threshold_rule_does() -> None:
    y = np.array([1, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.55, 0.2, 0.1, 0.7])
    (point,) = ev.operating_points(y, p, [0.5], cost_fp=1.0, cost_fn=5.0)
    assert (point.tp, point.fp, point.fn, point.tn) == (2, 2, 1, 1)
    assert point.cost == 2 * 1.0 + 1 * 5.0
    assert point.precision == 0.5 and point.recall == pytest.approx(2 / 3)
    chosen = choose_threshold(y, p, cost_fp=1.0, cost_fn=5.0)
    at = ev.operating_points(y, p, [chosen.threshold], cost_fp=1.0, cost_fn=5.0)[0]
    assert at.cost / len(y) == pytest.approx(chosen.expected_cost)
    assert (at.precision, at.recall) == pytest.approx((chosen.precision, chosen.recall))


def test_the_curve_cuts_walk_from_never_to_always_positive() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.8, 0.8, 0.3, 0.1])
    cuts = ev.curve_thresholds(p)
    points = ev.operating_points(y, p, cuts)
    assert cuts[0] > 0.8 and len(cuts) == 4  # above the top, then each distinct score
    assert [pt.tp + pt.fp for pt in points] == [0, 2, 3, 4]
    assert points[0].precision == 1.0 and points[-1].recall == 1.0


def test_the_bootstrap_interval_holds_the_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.8, y, 1 - y)
    f1 = binary_metrics(y, pred.astype(float))["f1"]
    first = ev.bootstrap_interval(ev.f1_resampled(y, pred), 200, np.random.default_rng(7))
    again = ev.bootstrap_interval(ev.f1_resampled(y, pred), 200, np.random.default_rng(7))
    assert first == again and first is not None
    low, high = first
    assert low < f1 < high and 0.05 < high - low < 0.3


def test_macro_f1_resampled_averages_the_labels() -> None:
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    hat = np.array([[1, 0], [0, 0], [1, 1], [0, 1]])
    statistic = ev.f1_resampled(Y, hat)
    (value,) = statistic(np.arange(4)[None, :])
    assert value == pytest.approx((1.0 + 0.5) / 2)


def test_wilson_interval_of_an_accuracy() -> None:
    low, high = ev.wilson_interval(8, 10)  # type: ignore[misc]
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert ev.wilson_interval(0, 0) is None


def test_bad_input_is_named() -> None:
    with pytest.raises(InvalidInputError, match="must share"):
        ev.f1_resampled(np.zeros(3), np.zeros(4))
    with pytest.raises(InvalidInputError, match="successes"):
        ev.wilson_interval(11, 10)
    with pytest.raises(InvalidInputError, match="level"):
        ev.bootstrap_interval(
            lambda rows: rows.sum(axis=1).astype(float), 3, np.random.default_rng(0), level=2
        )


def test_operating_points_agree_with_counting_every_prediction() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 7, 300):
        y = rng.integers(0, 2, n)
        p = np.round(rng.random(n), 1)  # many ties
        thresholds = [*ev.curve_thresholds(p), 0.0, 0.5, 1.0, 0.35]
        for t, point in zip(thresholds, ev.operating_points(y, p, thresholds), strict=True):
            pred = p >= t
            expected = (
                int((pred & (y == 1)).sum()),
                int((pred & (y == 0)).sum()),
                int((~pred & (y == 1)).sum()),
                int((~pred & (y == 0)).sum()),
            )
            assert (point.tp, point.fp, point.fn, point.tn) == expected, (n, t)
