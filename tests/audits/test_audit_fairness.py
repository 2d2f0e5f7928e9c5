"""Subgroup / BPSN / BNSP AUC, rates, the Jigsaw final metric, intervals and the count guard."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from audits import (
    Estimate,
    InsufficientData,
    bnsp_auc,
    bpsn_auc,
    fairness_audit,
    generalized_mean,
    roc_auc,
    subgroup_auc,
)


def fair_data(seed: int = 0, n_base: int = 200) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The group holds exactly the same (label, score) pairs as the background (once vs twice)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_base)
    s = np.round(rng.normal(y * 1.5, 1.0), 2)  # rounding creates ties on purpose
    labels = np.concatenate([y, y, y])
    scores = np.concatenate([s, s, s])
    mask = np.concatenate([np.ones(n_base, bool), np.zeros(2 * n_base, bool)])
    return labels, scores, {"g": mask}


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(y, 1.0), 1)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_a_perfectly_fair_scorer_has_equal_subgroup_bpsn_bnsp_auc() -> None:
    y, s, groups = fair_data()
    overall = roc_auc(y, s)
    m = groups["g"]
    assert subgroup_auc(y, s, m) == pytest.approx(overall, abs=1e-12)
    assert bpsn_auc(y, s, m) == pytest.approx(overall, abs=1e-12)
    assert bnsp_auc(y, s, m) == pytest.approx(overall, abs=1e-12)
    report = fairness_audit(y, s, groups, threshold=0.75, rng=np.random.default_rng(0), n_resamples=50)
    row = report.group("g")
    for metric in ("subgroup_auc", "bpsn_auc", "bnsp_auc"):
        result = row.metric(metric)
        assert isinstance(result, Estimate) and result.value == pytest.approx(overall, abs=1e-12)
    # equal AUCs everywhere: every power mean equals the AUC, and the weights sum to 1
    assert isinstance(report.final_metric, Estimate)
    assert report.final_metric.value == pytest.approx(overall, abs=1e-12)


def test_a_scorer_biased_against_one_group_shows_low_bpsn_for_it() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    y = rng.integers(0, 2, n)
    g = rng.random(n) < 0.2
    s = rng.normal(y * 2.0, 1.0) + np.where(g, 2.0, 0.0)  # mentions of g are scored more toxic
    report = fairness_audit(
        y,
        s,
        {"g": g, "h": ~g & (rng.random(n) < 0.3)},
        threshold=1.0,
        rng=np.random.default_rng(0),
        n_resamples=100,
    )
    biased, other = report.group("g"), report.group("h")
    assert isinstance(biased.bpsn_auc, Estimate) and isinstance(biased.bnsp_auc, Estimate)
    assert isinstance(other.bpsn_auc, Estimate)
    assert biased.bpsn_auc.value < 0.65 < other.bpsn_auc.value
    assert biased.bnsp_auc.value > 0.95
    assert biased.bpsn_auc.interval is not None and biased.bpsn_auc.interval.high < other.bpsn_auc.value
    fpr_g, fpr_h = biased.false_positive_rate, other.false_positive_rate
    assert isinstance(fpr_g, Estimate) and isinstance(fpr_h, Estimate) and fpr_g.value > 3 * fpr_h.value


def test_generalized_mean_against_a_hand_computation() -> None:
    # ((0.8^-5 + 0.9^-5 + 0.6^-5) / 3) ^ (-1/5) = (17.6053488979 / 3) ^ -0.2 = 5.8684496326 ^ -0.2
    assert generalized_mean([0.8, 0.9, 0.6], -5) == pytest.approx(0.7019324558, abs=1e-9)
    assert generalized_mean([0.7, 0.7], -5) == pytest.approx(0.7)
    assert generalized_mean([0.0, 0.9], -5) == 0.0
    with pytest.raises(ValueError, match="power must not be 0"):
        generalized_mean([0.5], 0)


def test_final_metric_weights_overall_and_the_three_means() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    y = rng.integers(0, 2, n)
    groups = {"a": rng.random(n) < 0.3, "b": rng.random(n) < 0.3}
    s = rng.normal(y * 1.2, 1.0) + np.where(groups["a"], 0.7, 0.0)
    report = fairness_audit(y, s, groups, threshold=0.5, rng=np.random.default_rng(0), n_resamples=0)
    overall = roc_auc(y, s)
    means = [
        generalized_mean([f(y, s, groups["a"]), f(y, s, groups["b"])], -5)
        for f in (subgroup_auc, bpsn_auc, bnsp_auc)
    ]
    assert isinstance(report.final_metric, Estimate)
    assert report.final_metric.value == pytest.approx(0.25 * overall + 0.25 * sum(means), abs=1e-12)
    assert report.final_metric.interval is None


def test_rates_at_the_threshold_by_hand() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    s = np.array([0.1, 0.6, 0.7, 0.2, 0.9, 0.4, 0.8, 0.95, 0.3, 0.7])
    g = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], bool)
    report = fairness_audit(
        y, s, {"g": g}, threshold=0.5, rng=np.random.default_rng(0), n_resamples=0, min_count=1
    )
    row = report.group("g")
    assert (
        isinstance(row.false_positive_rate, Estimate) and row.false_positive_rate.value == 0.5
    )  # 0.6, 0.7 of 4
    assert isinstance(row.false_negative_rate, Estimate) and row.false_negative_rate.value == 0.25  # 0.4 of 4


def test_a_group_with_too_few_positives_says_so_with_the_counts() -> None:
    rng = np.random.default_rng(4)
    n = 600
    y = rng.integers(0, 2, n)
    s = rng.normal(y, 1.0)
    small = np.zeros(n, bool)
    small[np.flatnonzero(y == 1)[:3]] = True
    small[np.flatnonzero(y == 0)[:40]] = True
    report = fairness_audit(
        y, s, {"small": small}, threshold=0.5, rng=np.random.default_rng(0), n_resamples=20
    )
    row = report.group("small")
    assert isinstance(row.subgroup_auc, InsufficientData)
    assert row.subgroup_auc.counts == {"subgroup_positives": 3, "subgroup_negatives": 40}
    assert row.subgroup_auc.needed == 10
    assert isinstance(row.bnsp_auc, InsufficientData) and isinstance(
        row.false_negative_rate, InsufficientData
    )
    assert isinstance(row.bpsn_auc, Estimate) and isinstance(row.false_positive_rate, Estimate)
    assert report.groups_in_mean["subgroup_auc"] == ()
    assert isinstance(report.final_metric, InsufficientData)


def test_bootstrap_is_reproducible_and_brackets_the_estimate() -> None:
    y, s, groups = fair_data(seed=5)
    one = fairness_audit(y, s, groups, threshold=0.5, rng=np.random.default_rng(7), n_resamples=80)
    two = fairness_audit(y, s, groups, threshold=0.5, rng=np.random.default_rng(7), n_resamples=80)
    assert one == two
    result = one.group("g").bpsn_auc
    assert isinstance(result, Estimate) and result.interval is not None
    assert result.interval.low < result.value < result.interval.high
    assert result.interval.n_valid == 80


def test_it_names_the_shapes_of_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"scores has shape \(3,\) but there are 4 items|labels has shape"):
        fairness_audit([0, 1, 0, 1], [0.1, 0.2, 0.3], {"g": [True] * 4}, threshold=0.5, rng=rng)
    with pytest.raises(ValueError, match=r"groups\['g'\] has shape \(2,\) but there are 3 items"):
        fairness_audit([0, 1, 0], [0.1, 0.2, 0.3], {"g": [True, False]}, threshold=0.5, rng=rng)
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        fairness_audit([0, 2, 0], [0.1, 0.2, 0.3], {"g": [True] * 3}, threshold=0.5, rng=rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        fairness_audit([0, 1, 0], [0.1, 0.2, 0.3], {"g": [True] * 3}, threshold=0.5, rng=42)  # type: ignore[arg-type]


def test_the_fast_bias_aucs_equal_sklearn_on_the_defining_subsets() -> None:
    rng = np.random.default_rng(11)
    n = 1500
    y = rng.integers(0, 2, n)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # many ties
    groups = {"a": rng.random(n) < 0.3, "b": rng.random(n) < 0.2}  # overlapping groups
    report = fairness_audit(y, s, groups, threshold=0.3, rng=np.random.default_rng(0), n_resamples=0)
    for name, m in groups.items():
        row = report.group(name)
        subsets = {
            "subgroup_auc": m,
            "bpsn_auc": (m & (y == 0)) | (~m & (y == 1)),
            "bnsp_auc": (m & (y == 1)) | (~m & (y == 0)),
        }
        for metric, subset in subsets.items():
            result = row.metric(metric)
            assert isinstance(result, Estimate)
            assert result.value == pytest.approx(roc_auc_score(y[subset], s[subset]), abs=1e-12), (
                name,
                metric,
            )
