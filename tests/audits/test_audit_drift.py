"""Drift: classifier two-sample test, length, identity-group rates, labels, and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from audits import BOTH_SHIFTED, INPUTS_SHIFTED, LABELS_SHIFTED, NO_SHIFT, DriftThresholds, drift_report


def test_two_samples_of_one_distribution_show_no_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    report = drift_report(
        a,
        b,
        rng=np.random.default_rng(1),
        labels_a=rng.integers(0, 2, 400),
        labels_b=rng.integers(0, 2, 400),
        lengths_a=rng.poisson(50, 400),
        lengths_b=rng.poisson(50, 400),
    )
    assert report.verdict == NO_SHIFT
    assert abs(report.classifier.auc - 0.5) < 0.07
    assert report.classifier.p_value > 0.01
    assert report.classifier.interval is not None
    assert report.classifier.interval.low < report.classifier.auc < report.classifier.interval.high


def test_a_shifted_input_is_detected_with_the_most_distinctive_items() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    b[:, 0] += 1.5
    report = drift_report(a, b, rng=np.random.default_rng(3), top_k=5)
    assert report.verdict == INPUTS_SHIFTED
    assert report.classifier.auc > 0.8 and report.classifier.p_value < 1e-10
    assert b[list(report.classifier.most_b), 0].mean() > b[:, 0].mean() + 1.0
    assert a[list(report.classifier.most_a), 0].mean() < a[:, 0].mean() - 1.0
    assert "AUC" in report.reasons[0]


def test_label_prevalence_shift_alone_says_labels_shifted() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    ya = (rng.random(500) < 0.1).astype(int)
    yb = (rng.random(500) < 0.4).astype(int)
    report = drift_report(a, b, rng=np.random.default_rng(5), labels_a=ya, labels_b=yb)
    assert report.verdict == LABELS_SHIFTED
    assert report.labels is not None and report.labels.max_diff > 0.2 and report.labels.classes == (0, 1)


def test_length_and_group_rate_shifts_count_as_input_shifts() -> None:
    rng = np.random.default_rng(6)
    x = sp.random(600, 50, density=0.1, random_state=7, format="csr")
    ga = {"muslim": rng.random(300) < 0.05}
    gb = {"muslim": rng.random(300) < 0.30}
    report = drift_report(
        x[:300],
        x[300:],
        rng=np.random.default_rng(8),
        lengths_a=rng.poisson(40, 300),
        lengths_b=rng.poisson(80, 300),
        groups_a=ga,
        groups_b=gb,
        labels_a=np.zeros(300),
        labels_b=np.r_[np.zeros(150), np.ones(150)],
    )
    assert report.verdict == BOTH_SHIFTED
    assert report.length is not None and report.length.ks_statistic > 0.5
    assert report.groups[0].group == "muslim" and report.groups[0].q_value < 1e-6
    assert any("muslim" in r for r in report.reasons) and any("length" in r for r in report.reasons)


def test_effect_floors_keep_tiny_but_significant_differences_from_counting() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    ya, yb = np.r_[np.zeros(100), np.ones(100)], np.r_[np.zeros(90), np.ones(110)]
    strict = drift_report(
        a,
        b,
        rng=np.random.default_rng(0),
        labels_a=ya,
        labels_b=yb,
        thresholds=DriftThresholds(alpha=0.9, label_prevalence_diff=0.2),
    )
    assert strict.verdict == NO_SHIFT and strict.thresholds.label_prevalence_diff == 0.2


def test_a_permutation_null_can_replace_the_normal_approximation() -> None:
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=(60, 3)), rng.normal(size=(60, 3)) + 2.0
    report = drift_report(a, b, rng=np.random.default_rng(11), n_permutations=9, n_resamples=0)
    assert report.classifier.p_value == pytest.approx(0.1) and "permutation" in report.classifier.null
    assert report.classifier.interval is None


def test_it_names_mismatched_shapes() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"shape \(10, 3\) but features_b has shape \(10, 4\)"):
        drift_report(np.zeros((10, 3)), np.zeros((10, 4)), rng=rng)
    with pytest.raises(ValueError, match="labels_a and labels_b must both be given"):
        drift_report(np.ones((10, 3)), np.ones((10, 3)), rng=rng, labels_a=np.zeros(10))
    with pytest.raises(ValueError, match=r"lengths_b has shape \(9,\) but there are 10 items"):
        drift_report(
            rng.normal(size=(10, 3)),
            rng.normal(size=(10, 3)),
            rng=rng,
            lengths_a=np.ones(10),
            lengths_b=np.ones(9),
        )
    with pytest.raises(ValueError, match=r"groups_b\['g'\] has shape \(4,\) but there are 10 items"):
        drift_report(
            rng.normal(size=(10, 3)),
            rng.normal(size=(10, 3)),
            rng=rng,
            groups_a={"g": np.zeros(10, bool)},
            groups_b={"g": np.zeros(4, bool)},
        )


def test_a_group_seen_on_one_side_only_is_compared_against_zero() -> None:
    rng = np.random.default_rng(12)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    report = drift_report(
        a,
        b,
        rng=np.random.default_rng(0),
        groups_a={},
        groups_b={"sikh": np.r_[np.ones(60, bool), np.zeros(140, bool)]},
    )
    assert [(g.group, g.rate_a, g.rate_b) for g in report.groups] == [("sikh", 0.0, 0.3)]
    assert report.verdict == INPUTS_SHIFTED
