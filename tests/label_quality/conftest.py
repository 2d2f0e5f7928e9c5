"""Fixtures for label_quality tests: published worked examples and synthetic crowds.

Helpers are exposed as fixtures rather than imported, and test files carry a ``test_lq_``
prefix: if this directory were ever collected without ``tests/__init__.py``, pytest's
default import mode would name its package ``label_quality`` and shadow the library.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

NAN = np.nan

# Fleiss (1971) as tabulated on Wikipedia ("Fleiss' kappa", worked example):
# 10 items, 14 raters each, counts per category 1..5. Published: P-bar = 0.378,
# P-bar_e = 0.213, kappa = 0.210.
FLEISS_WIKIPEDIA_COUNTS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C
# (nominal data, 4 observers x 12 units, missing values). Published nominal alpha = 0.743.
KRIPPENDORFF_2011_OBSERVERS_BY_UNITS = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def ratings_from_counts(counts: np.ndarray) -> np.ndarray:
    """Items x raters matrix with rater order arbitrary, from an items x categories table."""
    rows = [np.repeat(np.arange(counts.shape[1]), row) for row in counts]
    return np.array(rows, dtype=np.float64)


def two_rater_matrix(both_yes: int, a_yes_b_no: int, a_no_b_yes: int, both_no: int) -> np.ndarray:
    """(n, 2) ratings (1 = yes) from a 2x2 contingency table."""
    pairs = [(1, 1)] * both_yes + [(1, 0)] * a_yes_b_no + [(0, 1)] * a_no_b_yes + [(0, 0)] * both_no
    return np.array(pairs, dtype=np.float64)


def simulate_crowd(
    rng: np.random.Generator,
    n_items: int = 300,
    accuracies: tuple[float, ...] = (0.95, 0.9, 0.85, 0.8, 0.55),
    n_categories: int = 2,
    per_item: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Random truth plus annotators of known accuracy; each item rated by `per_item` of them.

    Returns (ratings (n_items, n_annotators) with NaN, truth (n_items,)).
    """
    truth = rng.integers(0, n_categories, n_items)
    n_annotators = len(accuracies)
    ratings = np.full((n_items, n_annotators), NAN)
    for i in range(n_items):
        for a in rng.choice(n_annotators, size=per_item, replace=False):
            if rng.random() < accuracies[a]:
                ratings[i, a] = truth[i]
            else:
                wrong = [c for c in range(n_categories) if c != truth[i]]
                ratings[i, a] = rng.choice(wrong)
    return ratings, truth


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture
def fleiss_wikipedia() -> np.ndarray:
    """(10, 14) ratings of Fleiss' example; published kappa 0.210, P-bar 0.378."""
    return ratings_from_counts(FLEISS_WIKIPEDIA_COUNTS)


@pytest.fixture
def krippendorff_2011() -> np.ndarray:
    """(12 units, 4 observers) ratings of Krippendorff's example C; alpha 0.743."""
    return KRIPPENDORFF_2011_OBSERVERS_BY_UNITS.T.copy()


@pytest.fixture
def two_rater() -> Callable[[int, int, int, int], np.ndarray]:
    return two_rater_matrix


@pytest.fixture
def crowd() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return simulate_crowd
