"""Agreement statistics against published worked examples and hand computations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from label_quality import (
    agreement_summary,
    annotator_agreement_with_consensus,
    cohen_kappa_pairwise,
    fleiss_kappa,
    krippendorff_alpha,
    multilabel_agreement,
    per_label,
    percent_agreement,
)

NAN = np.nan


def test_fleiss_kappa_matches_fleiss_1971_wikipedia_example(fleiss_wikipedia: np.ndarray) -> None:
    assert fleiss_wikipedia.shape == (10, 14)
    assert fleiss_kappa(fleiss_wikipedia) == pytest.approx(0.210, abs=5e-4)
    # Fleiss' P-bar is our mean pairwise percent agreement.
    assert percent_agreement(fleiss_wikipedia) == pytest.approx(0.378, abs=5e-4)


def test_fleiss_kappa_does_not_depend_on_which_column_holds_a_rating(
    fleiss_wikipedia: np.ndarray, rng: np.random.Generator
) -> None:
    shuffled = np.array([rng.permutation(row) for row in fleiss_wikipedia])
    assert fleiss_kappa(shuffled) == pytest.approx(fleiss_kappa(fleiss_wikipedia))


def test_fleiss_kappa_with_varying_raters_uses_gwet_generalisation() -> None:
    ratings = np.array([[0, 0, 0], [0, 1, NAN], [1, 1, NAN], [1, NAN, NAN]])
    # Hand computation: the single-rated last item is dropped. Observed agreement
    # (1 + 0 + 1) / 3; pi = mean of per-item shares = (0.5, 0.5); expected 0.5.
    assert fleiss_kappa(ratings) == pytest.approx((2 / 3 - 0.5) / 0.5)


def test_generalised_fleiss_equals_classic_fleiss_when_counts_are_equal(
    fleiss_wikipedia: np.ndarray,
) -> None:
    # One single-rated extra item forces the generalised branch without changing the
    # items that enter the statistic, so both branches must agree.
    padded = np.vstack([fleiss_wikipedia, [[4] + [NAN] * 13]])
    ragged = padded.copy()
    ragged[0, 13] = NAN  # item 0 now has 13 raters: varying counts
    assert fleiss_kappa(padded) == pytest.approx(fleiss_kappa(fleiss_wikipedia))
    assert np.isfinite(fleiss_kappa(ragged))


def test_krippendorff_alpha_matches_krippendorff_2011_example(
    krippendorff_2011: np.ndarray,
) -> None:
    assert krippendorff_alpha(krippendorff_2011) == pytest.approx(0.743, abs=5e-4)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # Wikipedia "Cohen's kappa", grant-proposal example: p_o 0.7, p_e 0.5.
        ((20, 5, 10, 15), 0.4),
        # Wikipedia, same observed agreement 0.60 with different marginals.
        ((45, 15, 25, 15), 0.1304),
        ((25, 35, 5, 35), 0.2593),
    ],
)
def test_cohen_kappa_matches_textbook_two_by_two_tables(
    two_rater: Callable[[int, int, int, int], np.ndarray],
    table: tuple[int, int, int, int],
    expected: float,
) -> None:
    result = cohen_kappa_pairwise(two_rater(*table))
    assert result.kappa[0, 1] == pytest.approx(expected, abs=5e-5)
    assert result.kappa[1, 0] == result.kappa[0, 1]
    assert np.isnan(result.kappa[0, 0])
    assert result.n_common[0, 1] == sum(table)


def test_cohen_kappa_uses_only_co_rated_items_and_respects_min_overlap() -> None:
    ratings = np.array([[0, 0, NAN], [1, 1, NAN], [0, 1, 0], [1, NAN, 1], [NAN, 0, 1]], dtype=float)
    result = cohen_kappa_pairwise(ratings, min_overlap=3)
    assert result.n_common[0, 1] == 3
    assert result.n_common[0, 2] == 2
    assert np.isnan(result.kappa[0, 2])  # only 2 co-rated items < min_overlap
    assert np.isfinite(result.kappa[0, 1])
    np.testing.assert_array_equal(np.diag(result.n_common), [4, 4, 3])


def test_statistics_are_nan_when_undefined() -> None:
    everyone_says_clean = np.zeros((5, 3))
    assert np.isnan(fleiss_kappa(everyone_says_clean))
    assert np.isnan(krippendorff_alpha(everyone_says_clean))
    assert np.isnan(cohen_kappa_pairwise(everyone_says_clean).mean())
    assert percent_agreement(everyone_says_clean) == 1.0
    single_ratings = np.array([[0, NAN], [NAN, 1]])
    assert np.isnan(percent_agreement(single_ratings))
    assert np.isnan(fleiss_kappa(single_ratings))
    assert np.isnan(krippendorff_alpha(single_ratings))


def test_perfect_agreement_gives_one() -> None:
    ratings = np.array([[0, 0, NAN], [1, 1, 1], [2, NAN, 2], [1, 1, NAN]])
    summary = agreement_summary(ratings, 3)
    assert summary.percent_agreement == 1.0
    assert summary.fleiss_kappa == pytest.approx(1.0)
    assert summary.krippendorff_alpha == pytest.approx(1.0)
    assert summary.mean_cohen_kappa == pytest.approx(1.0)
    assert (summary.n_items, summary.n_items_multi_rated, summary.n_ratings) == (4, 4, 9)


def test_preference_ratings_use_a_b_tie_as_three_categories() -> None:
    ratings = np.array([[0, 0, 2], [1, 1, 1], [2, 2, 0], [0, 1, 0]], dtype=float)
    summary = agreement_summary(ratings, n_categories=3)
    assert 0 < summary.percent_agreement < 1
    assert summary.fleiss_kappa == pytest.approx(fleiss_kappa(ratings, 3))


def test_it_rejects_minus_one_as_missing_marker() -> None:
    with pytest.raises(ValueError, match="missing ratings must be NaN"):
        fleiss_kappa(np.array([[0, -1], [1, 1]]))


def test_it_names_the_shape_of_wrong_input() -> None:
    with pytest.raises(ValueError, match=r"2-D \(n_items, n_annotators\); got shape \(3,\)"):
        krippendorff_alpha(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"holds code 3 but n_categories=2"):
        percent_agreement(np.array([[0, 3]]), 2)
    with pytest.raises(ValueError, match="integer category codes"):
        percent_agreement(np.array([[0.5, 1]]))
    with pytest.raises(TypeError, match="dtype"):
        percent_agreement(np.array([["a", "b"]]))


def test_annotator_against_consensus_exposes_the_careless_annotator(
    crowd: Callable[..., tuple[np.ndarray, np.ndarray]], rng: np.random.Generator
) -> None:
    ratings, _ = crowd(rng, n_items=400, accuracies=(0.95, 0.9, 0.9, 0.6), per_item=3)
    result = annotator_agreement_with_consensus(ratings)
    assert int(np.argmin(result.agreement)) == 3
    assert int(np.argmin(result.kappa)) == 3
    assert (result.n_items > 250).all()


def test_annotator_is_not_compared_with_their_own_vote() -> None:
    # Two raters who always disagree: leave-one-out consensus is the other's vote.
    ratings = np.array([[0, 1], [1, 0], [0, 1], [1, 0]], dtype=float)
    result = annotator_agreement_with_consensus(ratings)
    np.testing.assert_array_equal(result.agreement, [0.0, 0.0])
    np.testing.assert_array_equal(result.n_items, [4, 4])


def test_multilabel_statistics_are_computed_per_label() -> None:
    toxic = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
    threat = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=float)
    ratings = np.stack([toxic, threat], axis=2)
    values = per_label(fleiss_kappa, ratings)
    assert values.shape == (2,)
    assert values[0] == pytest.approx(fleiss_kappa(toxic))
    assert values[1] == pytest.approx(fleiss_kappa(threat))
    summaries = multilabel_agreement(ratings)
    assert [s.krippendorff_alpha for s in summaries] == pytest.approx(
        [krippendorff_alpha(toxic), krippendorff_alpha(threat)]
    )
    with pytest.raises(ValueError, match="3-D"):
        per_label(fleiss_kappa, toxic)
