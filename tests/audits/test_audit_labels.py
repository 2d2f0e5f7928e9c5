"""Label-side audit: prevalence, Krippendorff's alpha and annotators biased on one group."""

from __future__ import annotations

import numpy as np
import pytest

from audits import Estimate, InsufficientData, label_audit


def simulated_crowd(
    seed: int, *, biased: int | None, prevalence: dict[str, float], n_items: int = 600, n_annotators: int = 6
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Items in groups A / B / none; 3 annotators each, honest ones 8 % wrong; ``biased``: every A toxic."""
    rng = np.random.default_rng(seed)
    which = rng.choice(["A", "B", ""], size=n_items, p=[0.25, 0.25, 0.5])
    truth = np.array([rng.random() < prevalence[w or "none"] for w in which], dtype=float)
    ratings = np.full((n_items, n_annotators), np.nan)
    for i in range(n_items):
        for j in rng.choice(n_annotators, 3, replace=False):
            label = truth[i] if rng.random() > 0.08 else 1 - truth[i]
            ratings[i, j] = 1.0 if (j == biased and which[i] == "A") else label
    return ratings, {"A": which == "A", "B": which == "B"}


def test_the_annotator_who_calls_every_mention_toxic_is_flagged_with_evidence() -> None:
    ratings, groups = simulated_crowd(0, biased=2, prevalence={"A": 0.3, "B": 0.3, "none": 0.3})
    report = label_audit(ratings, groups, annotators=[f"ann{j}" for j in range(6)])
    flagged = report.flagged
    assert [(t.annotator, t.group, t.direction) for t in flagged] == [("ann2", "A", "over")]
    hit = flagged[0]
    assert hit.rate_group == 1.0 and hit.rate_other < 0.2
    assert hit.k_group == hit.n_group >= 10 and hit.q_value < 1e-6
    assert hit.raw_rate_group == 1.0 and hit.raw_rate_other < 0.5
    assert len(report.tests) == 6 * 2 * 2


def test_honest_annotators_on_a_truly_more_toxic_group_are_not_flagged_by_the_peer_test() -> None:
    ratings, groups = simulated_crowd(1, biased=None, prevalence={"A": 0.8, "B": 0.3, "none": 0.2})
    peer = label_audit(ratings, groups)
    assert peer.flagged == ()
    raw = label_audit(ratings, groups, method="raw")
    # the raw comparison confounds the group's real prevalence with bias
    assert {t.group for t in raw.flagged} == {"A"} and len(raw.flagged) >= 4


def test_prevalence_and_alpha_per_group() -> None:
    # Krippendorff (2011) example A: binary, 2 observers x 10 units, published alpha = 0.095
    obs = np.array([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]], dtype=float).T
    ratings = np.vstack([obs, np.ones((10, 2))])
    groups = {"g": np.arange(20) < 10, "all_toxic": np.arange(20) >= 10}
    labels = np.r_[np.zeros(10), np.ones(10)]
    report = label_audit(ratings, groups, labels=labels)
    g = next(s for s in report.groups if s.group == "g")
    assert isinstance(g.alpha, Estimate) and g.alpha.value == pytest.approx(0.095, abs=5e-4)
    assert g.rating_prevalence == pytest.approx(6 / 20) and g.label_prevalence == 0.0
    same = next(s for s in report.groups if s.group == "all_toxic")
    assert isinstance(same.alpha, InsufficientData) and "undefined" in same.alpha.reason


def test_too_few_items_are_reported_untested() -> None:
    ratings, groups = simulated_crowd(
        2, biased=None, prevalence={"A": 0.3, "B": 0.3, "none": 0.3}, n_items=40
    )
    report = label_audit(ratings, groups, min_items=30)
    assert report.tests == ()
    assert report.untested and all(u.needed == 30 for u in report.untested)
    assert set(report.untested[0].counts) == {"group_items", "other_items"}


def test_it_rejects_bad_ratings() -> None:
    with pytest.raises(ValueError, match="must hold 0, 1 or NaN"):
        label_audit([[0, 2]], {"g": [True]})
    with pytest.raises(ValueError, match=r"annotators has 1 names but ratings has shape \(1, 2\)"):
        label_audit([[0, 1]], {"g": [True]}, annotators=["x"])
    with pytest.raises(ValueError, match=r"groups\['g'\] has shape \(2,\) but there are 1 items"):
        label_audit([[0, 1]], {"g": [True, False]})
