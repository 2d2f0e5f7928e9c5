"""The agreement statistics computed from per-item count tables (the fast path the quality run
at 100k items needs) equal the libraries' own computations on the full rating matrices, and on
annotator-blind compacted matrices."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

import label_quality as lq


def sparse_ratings(seed: int, n_items: int, n_annotators: int, per_item: int, k: int) -> np.ndarray:
    """Each item rated by ``per_item`` of ``n_annotators`` (NaN elsewhere), codes 0..k-1."""
    rng = np.random.default_rng(seed)
    values = np.full((n_items, n_annotators), np.nan)
    truth = rng.integers(0, k, size=n_items)
    for i in range(n_items):
        who = rng.choice(n_annotators, size=per_item, replace=False)
        noisy = rng.random(per_item) < 0.25
        values[i, who] = np.where(noisy, rng.integers(0, k, size=per_item), truth[i])
    return values


@pytest.mark.parametrize(("seed", "k"), [(0, 2), (1, 3), (2, 2)])
def test_fleiss_kappa_equals_statsmodels_on_aggregate_raters(seed: int, k: int) -> None:
    values = sparse_ratings(seed, 400, 12, 3, k)
    compact = np.stack([row[~np.isnan(row)] for row in values]).astype(np.int64)
    table, _ = aggregate_raters(compact, n_cat=k)
    assert lq.fleiss_kappa(values, k) == pytest.approx(
        float(sm_fleiss_kappa(table, method="fleiss")), abs=1e-12
    )


@pytest.mark.parametrize(("seed", "k", "per_item"), [(0, 2, 3), (1, 3, 2), (3, 3, 4)])
def test_krippendorff_alpha_equals_the_package_on_reliability_data(seed: int, k: int, per_item: int) -> None:
    values = sparse_ratings(seed, 300, 10, per_item, k)
    values[::7, :] = np.nan  # some items nobody rated
    values[1::11] = np.where(np.arange(10) == 0, 1.0, np.nan)  # and some rated once
    expected = krippendorff.alpha(
        reliability_data=values.T, level_of_measurement="nominal", value_domain=np.arange(k, dtype=float)
    )
    assert lq.krippendorff_alpha(values, k) == pytest.approx(expected, abs=1e-12)


def test_the_statistics_are_the_same_on_the_annotator_blind_compact_matrix() -> None:
    values = sparse_ratings(4, 500, 30, 3, 2)
    weeks = np.where(np.isnan(values), None, np.arange(values.size).reshape(values.shape) % 5).astype(object)
    compact, compact_weeks = lq.annotator_blind(values, weeks)
    assert compact.shape == (500, 3)
    assert sorted(
        zip(compact[~np.isnan(compact)].tolist(), compact_weeks[~np.isnan(compact)].tolist(), strict=True)
    ) == sorted(zip(values[~np.isnan(values)].tolist(), weeks[~np.isnan(values)].tolist(), strict=True))
    for statistic in (lq.percent_agreement, lq.fleiss_kappa, lq.krippendorff_alpha):
        assert statistic(compact, 2) == pytest.approx(statistic(values, 2), abs=1e-12)


@pytest.mark.parametrize(
    ("from_matrix", "from_counts"),
    [
        (lq.percent_agreement, lq.percent_agreement_from_counts),
        (lq.fleiss_kappa, lq.fleiss_kappa_from_counts),
        (lq.krippendorff_alpha, lq.krippendorff_alpha_from_counts),
    ],
)
def test_a_bootstrap_over_the_count_table_gives_the_matrix_bootstraps_interval(
    from_matrix, from_counts
) -> None:  # type: ignore[no-untyped-def]
    values = sparse_ratings(5, 300, 10, 3, 3)
    values[::4] = np.where(np.arange(10) == 2, 0.0, np.nan)  # single-rated items: not resampled
    counts = lq.multi_rated_counts(values, 3)
    assert counts.shape == (300 - 75, 3)
    on_matrix = lq.bootstrap_ci(
        values, lambda v: from_matrix(v, 3), rng=np.random.default_rng(9), n_resamples=50
    )
    on_counts = lq.bootstrap_ci(counts, from_counts, rng=np.random.default_rng(9), n_resamples=50)
    assert (on_counts.estimate, on_counts.low, on_counts.high) == pytest.approx(
        (on_matrix.estimate, on_matrix.low, on_matrix.high), abs=1e-12
    )
