"""One contract, every registered strategy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from active_learning import InvalidInputError, UnknownNameError, get_strategy, strategy_names
from active_learning.strategies import STRATEGIES, cold_start_names, diversify

from .pools import as_list, full_view

ALL = strategy_names()
RANDOMISED = ["random", "seed_stratified", "seed_keyword", "split_votes"]


def test_the_registry_holds_the_documented_strategies() -> None:
    assert set(ALL) >= {
        "random",
        "seed_keyword",
        "seed_stratified",
        "least_confidence",
        "margin",
        "entropy",
        "vote_entropy",
        "kl_max",
        "activelab",
        "coreset",
        "margin+kmeans",
        "margin+kcenter",
        "split_votes",
    }


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("k", [1, 7, 60])
def test_it_returns_k_unique_valid_positions(name: str, k: int) -> None:
    view = full_view(60)
    sel = get_strategy(name).query(view, k, np.random.default_rng(0))
    pos = as_list(sel.positions)
    assert len(pos) == k
    assert len(set(pos)) == k
    assert all(0 <= p < 60 for p in pos)
    assert sel.positions.dtype == np.intp
    assert sel.scores.shape == (60,)
    assert np.all(~np.isnan(sel.scores))


@pytest.mark.parametrize("name", ALL)
def test_it_is_deterministic_for_a_seed(name: str) -> None:
    view = full_view(80, seed=3)
    a = get_strategy(name).query(view, 10, np.random.default_rng(42))
    b = get_strategy(name).query(view, 10, np.random.default_rng(42))
    assert as_list(a.positions) == as_list(b.positions)
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("name", RANDOMISED)
def test_randomised_strategies_differ_across_seeds(name: str) -> None:
    view = full_view(200, seed=1)
    picks = {
        tuple(as_list(get_strategy(name).query(view, 10, np.random.default_rng(s)).positions))
        for s in range(5)
    }
    assert len(picks) > 1


@pytest.mark.parametrize("name", ALL)
def test_it_rejects_k_larger_than_the_pool(name: str) -> None:
    with pytest.raises(InvalidInputError, match="k=61 is larger than the pool"):
        get_strategy(name).query(full_view(60), 61, np.random.default_rng(0))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("k", [0, -1])
def test_it_rejects_non_positive_k(name: str, k: int) -> None:
    with pytest.raises(InvalidInputError, match="k must be >= 1"):
        get_strategy(name).query(full_view(20), k, np.random.default_rng(0))


@pytest.mark.parametrize("name", ALL)
def test_it_rejects_a_bare_seed_instead_of_a_generator(name: str) -> None:
    with pytest.raises(InvalidInputError, match="numpy.random.Generator"):
        get_strategy(name).query(full_view(20), 3, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [n for n in ALL if STRATEGIES[n].requires])
def test_it_names_a_missing_input(name: str) -> None:
    strategy = get_strategy(name)
    missing = sorted(strategy.requires)[0]
    view = dataclasses.replace(full_view(20), **{missing: None})
    with pytest.raises(InvalidInputError, match=f"needs {missing}"):
        strategy.query(view, 3, np.random.default_rng(0))


@pytest.mark.parametrize("name", [n for n in ALL if "proba" in STRATEGIES[n].requires])
def test_it_names_shapes_that_do_not_match_the_pool(name: str) -> None:
    view = full_view(20)
    bad = dataclasses.replace(view, proba=view.proba[:10])  # type: ignore[index]
    with pytest.raises(InvalidInputError, match=r"proba has shape \(10, 2\); the pool has n=20"):
        get_strategy(name).query(bad, 3, np.random.default_rng(0))


def test_it_rejects_unknown_strategy_and_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_strategy("most_confused")
    message = str(err.value)
    for name in ALL:
        assert name in message
    assert "<name>+kmeans" in message


def test_any_strategy_can_be_made_diverse_by_name() -> None:
    s = get_strategy("entropy+kcenter")
    assert s.name == "entropy+kcenter" and s.diversity == "kcenter" and "features" in s.requires
    assert diversify(get_strategy("kl_max"), "kmeans").name == "kl_max+kmeans"
    with pytest.raises(UnknownNameError):
        get_strategy("entropy+umap")


def test_cold_start_strategies_need_no_model() -> None:
    assert set(cold_start_names()) == {"random", "seed_keyword", "seed_stratified", "coreset", "split_votes"}
