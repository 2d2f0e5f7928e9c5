"""The model-free queue (``split_votes``): split items first, the cap, distinct prompts, gold share."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import InvalidInputError, LabeledSet, Pool, RoundOptions, get_strategy, run_round
from active_learning.strategies import PoolView
from active_learning.vote_queue import gold_mixed_top_k, is_confident, split_vote_scores, vote_margin

from .pools import as_list

# Votes per item over (A, B, tie).
FRESH = [0, 0, 0]
STARTED = [1, 0, 0]
SPLIT_1_1 = [1, 1, 0]
SPLIT_2_1 = [2, 1, 0]
SPLIT_A_TIE = [1, 0, 1]
CONFIDENT_2_0 = [2, 0, 0]
CONFIDENT_3_1 = [3, 1, 0]
AT_CAP_3_2 = [3, 2, 0]
TIED_2_2 = [2, 2, 0]


def _scores(rows: list[list[int]], **kwargs: int) -> np.ndarray:
    return split_vote_scores(np.array(rows, dtype=float), np.random.default_rng(0), **kwargs)


def _view(counts: list[list[int]], *, features: np.ndarray | None = None, **kwargs: object) -> PoolView:
    n = len(counts)
    prompts = features if features is not None else np.eye(n)  # all distinct by default
    return PoolView(
        n=n, task="preference", vote_counts=np.array(counts, dtype=float), prompt_features=prompts, **kwargs
    )  # type: ignore[arg-type]


def test_margin_and_confidence_read_the_lead_over_the_runner_up() -> None:
    counts = np.array([FRESH, STARTED, SPLIT_1_1, SPLIT_2_1, CONFIDENT_2_0, CONFIDENT_3_1, SPLIT_A_TIE])
    assert vote_margin(counts).tolist() == [0, 1, 0, 1, 2, 2, 0]
    assert is_confident(counts).tolist() == [False, False, False, False, True, True, False]
    assert is_confident(counts, confident_margin=1).tolist() == [False, True, False, True, True, True, False]


def test_split_items_rank_before_started_before_fresh() -> None:
    s = _scores([FRESH, STARTED, SPLIT_1_1, SPLIT_A_TIE, FRESH, STARTED])
    order = as_list(np.argsort(-s, kind="stable"))
    assert set(order[:2]) == {2, 3}  # split (A-B and A-tie)
    assert set(order[2:4]) == {1, 5}  # started
    assert set(order[4:]) == {0, 4}  # fresh


def test_a_split_that_needs_fewer_votes_ranks_first() -> None:
    # 2-1 needs one more agreeing vote for a two-vote lead, 1-1 needs two.
    s = _scores([SPLIT_1_1, SPLIT_2_1])
    assert s[1] > s[0]


def test_the_cap_and_settled_items_are_ineligible() -> None:
    s = _scores(
        [AT_CAP_3_2, CONFIDENT_2_0, TIED_2_2, SPLIT_1_1, CONFIDENT_3_1],
        min_annotations=2,
        max_annotations=5,
    )
    # 5 votes: at the cap; 2-0 with the overlap done: confident; 3-1: confident. 2-2 with one
    # vote left can never lead by two, but a fifth vote still breaks the tie.
    assert np.isneginf(s[[0, 1, 4]]).all()
    assert np.isfinite(s[[2, 3]]).all()


def test_a_confident_item_below_the_overlap_still_gets_its_overlap() -> None:
    s = _scores([CONFIDENT_2_0], min_annotations=3, max_annotations=5)
    assert np.isfinite(s[0])


def test_the_cap_holds_whatever_the_votes() -> None:
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 4, size=(300, 3)).astype(float)
    s = split_vote_scores(counts, np.random.default_rng(1), min_annotations=2, max_annotations=4)
    assert np.isneginf(s[counts.sum(axis=1) >= 4]).all()


def test_it_rejects_bad_vote_counts_naming_the_shape() -> None:
    with pytest.raises(
        InvalidInputError, match=r"vote_counts must have shape \(n, n_classes>=2\); got \(3,\)"
    ):
        split_vote_scores(np.zeros(3), np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="whole numbers"):
        split_vote_scores(np.array([[0.5, 1.0]]), np.random.default_rng(0))
    short = PoolView(n=3, task="preference", vote_counts=np.zeros((2, 3)), prompt_features=np.eye(3))
    with pytest.raises(InvalidInputError, match=r"vote_counts has shape \(2, 3\); the pool has n=3"):
        get_strategy("split_votes").query(short, 1, np.random.default_rng(0))


def test_the_batch_takes_split_items_first() -> None:
    counts = [FRESH] * 20 + [SPLIT_1_1] * 3 + [STARTED] * 5
    sel = get_strategy("split_votes").query(_view(counts, gold_share=0.0), 5, np.random.default_rng(3))
    assert set(as_list(sel.positions[:3])) == {20, 21, 22}
    assert set(as_list(sel.positions[3:])) <= set(range(23, 28))


def test_a_batch_holds_no_two_near_identical_prompts() -> None:
    # 12 split items, all with the same prompt (one conversation), and 12 fresh items with
    # distinct prompts: a batch of 6 takes one split item, then distinct prompts.
    rng = np.random.default_rng(0)
    same = np.tile(rng.normal(size=(1, 16)), (12, 1)) + rng.normal(scale=1e-3, size=(12, 16))
    distinct = rng.normal(size=(12, 16))
    counts = [SPLIT_1_1] * 12 + [FRESH] * 12
    view = _view(counts, features=np.vstack([same, distinct]), gold_share=0.0)
    picked = as_list(get_strategy("split_votes").query(view, 6, np.random.default_rng(1)).positions)
    assert sum(p < 12 for p in picked) == 1
    assert picked[0] < 12  # the best split item still comes first


def test_near_identical_prompts_fill_a_batch_when_nothing_else_is_left() -> None:
    prompts = np.ones((4, 3))
    picked = as_list(
        get_strategy("split_votes")
        .query(_view([SPLIT_1_1] * 4, features=prompts), 4, np.random.default_rng(0))
        .positions
    )
    assert sorted(picked) == [0, 1, 2, 3]


def test_gold_items_make_up_their_share_spread_through_the_batch() -> None:
    n = 100
    gold = np.zeros(n, dtype=bool)
    gold[80:] = True
    rng = np.random.default_rng(2)
    view = _view([FRESH] * n, features=rng.normal(size=(n, 8)), gold=gold, gold_share=0.2)
    picked = as_list(get_strategy("split_votes").query(view, 20, np.random.default_rng(0)).positions)
    gold_slots = [i for i, p in enumerate(picked) if gold[p]]
    assert len(gold_slots) == 4
    assert gold_slots == [2, 7, 12, 17]  # evenly spread, not bunched at an end


def test_a_short_gold_part_is_filled_with_other_items_and_the_reverse() -> None:
    gold = np.array([True] + [False] * 9)
    view = _view([FRESH] * 10, gold=gold, gold_share=0.5)
    picked = as_list(get_strategy("split_votes").query(view, 6, np.random.default_rng(0)).positions)
    assert len(set(picked)) == 6 and sum(gold[p] for p in picked) == 1
    only_gold = _view([FRESH] * 4, gold=np.array([True, True, True, False]), gold_share=0.0)
    picked = as_list(get_strategy("split_votes").query(only_gold, 3, np.random.default_rng(0)).positions)
    assert 3 in picked and len(set(picked)) == 3  # the one non-gold item, then gold to fill up


def test_gold_share_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"gold_share must be in \[0, 1\]; got 1.5"):
        gold_mixed_top_k(
            np.zeros(3), 1, rng=np.random.default_rng(0), prompt_features=np.eye(3), gold_share=1.5
        )
    with pytest.raises(InvalidInputError, match=r"gold_share must be in \[0, 1\]"):
        RoundOptions(task="preference", gold_share=-0.1)


def test_a_round_runs_it_with_no_labels_and_no_model() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3, 8))
    counts = np.zeros((30, 3))
    counts[[4, 9], 0] = 1
    counts[[4, 9], 1] = 1  # two split items
    result = run_round(
        LabeledSet(np.empty((0, 3, 8)), np.empty(0)),
        Pool(X, vote_counts=counts, gold=np.zeros(30, dtype=bool), min_annotations=2, max_annotations=5),
        "split_votes",
        5,
        np.random.default_rng(1),
        options=RoundOptions(task="preference"),
    )
    assert result.model is None and result.pool_proba is None
    assert set(as_list(result.positions[:2])) == {4, 9}
