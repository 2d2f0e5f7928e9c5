"""Bootstrap intervals and agreement per period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest

from label_quality import (
    agreement_trend,
    bootstrap_ci,
    fleiss_kappa,
    iso_week,
    krippendorff_alpha,
    percent_agreement,
)

NAN = np.nan
Crowd = Callable[..., tuple[np.ndarray, np.ndarray]]


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate(
    crowd: Crowd, rng: np.random.Generator
) -> None:
    ratings, _ = crowd(rng, n_items=200)
    first = bootstrap_ci(ratings, krippendorff_alpha, rng=np.random.default_rng(7), n_resamples=200)
    second = bootstrap_ci(ratings, krippendorff_alpha, rng=np.random.default_rng(7), n_resamples=200)
    assert first == second
    assert first.low < first.estimate < first.high
    assert first.n_valid == 200
    assert first.high - first.low < 0.4


def test_bootstrap_interval_narrows_with_more_items(crowd: Crowd, rng: np.random.Generator) -> None:
    small, _ = crowd(rng, n_items=60)
    large, _ = crowd(rng, n_items=600)
    a = bootstrap_ci(small, percent_agreement, rng=rng, n_resamples=200)
    b = bootstrap_ci(large, percent_agreement, rng=rng, n_resamples=200)
    assert (b.high - b.low) < (a.high - a.low)


def test_bootstrap_interval_is_nan_when_the_statistic_is_undefined(
    rng: np.random.Generator,
) -> None:
    ci = bootstrap_ci(np.array([[0, NAN], [NAN, 1]]), fleiss_kappa, rng=rng, n_resamples=10)
    assert np.isnan(ci.estimate) and np.isnan(ci.low) and ci.n_valid == 0
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        bootstrap_ci(np.zeros((2, 2)), fleiss_kappa, rng=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(np.zeros((2, 2)), fleiss_kappa, rng=rng, confidence=95)


def test_trend_gives_one_value_per_item_period_in_key_order() -> None:
    agree = np.array([[0, 0], [1, 1], [0, 0], [1, 1]], dtype=float)
    disagree = np.array([[0, 1], [1, 0], [0, 1], [1, 0]], dtype=float)
    ratings = np.vstack([disagree, agree])
    rounds = [2] * 4 + [1] * 4
    points = agreement_trend(ratings, rounds, percent_agreement)
    assert [p.period for p in points] == [1, 2]
    assert [p.value for p in points] == [1.0, 0.0]
    assert [(p.n_items, p.n_ratings) for p in points] == [(4, 8), (4, 8)]
    assert np.isnan(points[0].ci_low)


def test_trend_with_per_rating_periods_only_sees_ratings_made_in_that_period(
    rng: np.random.Generator,
) -> None:
    ratings = np.array([[0, 0, 1], [1, 1, 0], [0, 0, NAN]], dtype=float)
    weeks = np.array(
        [["2026-W01", "2026-W01", "2026-W02"]] * 2 + [["2026-W02", "2026-W02", None]],
        dtype=object,
    )
    points = agreement_trend(ratings, weeks, partial(fleiss_kappa, n_categories=2), rng=rng, n_resamples=20)
    assert [p.period for p in points] == ["2026-W01", "2026-W02"]
    assert points[0].n_items == 2 and points[0].n_ratings == 4
    assert points[0].value == pytest.approx(1.0)
    # Week 2: item 2's two agreeing ratings; items 0 and 1 have one rating each.
    assert points[1].n_items == 1 and points[1].n_ratings == 4
    assert np.isfinite(points[0].ci_low) or np.isnan(points[0].ci_low)


def test_trend_validates_period_shape_and_rng() -> None:
    with pytest.raises(ValueError, match=r"periods must have shape \(2,\) or \(2, 2\)"):
        agreement_trend(np.zeros((2, 2)), [1, 2, 3], percent_agreement)
    with pytest.raises(ValueError, match="rng is required"):
        agreement_trend(np.zeros((2, 2)), [1, 2], percent_agreement, n_resamples=5)


def test_iso_week_keys_sort_chronologically() -> None:
    stamps = [dt.date(2026, 1, 1), dt.datetime(2025, 12, 29, 9), dt.date(2026, 3, 2)]
    assert iso_week(stamps) == ["2026-W01", "2026-W01", "2026-W10"]
    assert iso_week([dt.date(2027, 1, 1)]) == ["2026-W53"]
    with pytest.raises(TypeError, match="dates or datetimes"):
        iso_week(["2026-01-01"])  # type: ignore[list-item]
