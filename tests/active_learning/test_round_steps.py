"""run_round is three steps (fit and predict, query, evaluate) that a caller can compose by hand."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import (
    InvalidInputError,
    LabeledSet,
    Pool,
    RoundOptions,
    RoundResult,
    ValidationSlice,
    evaluate_model,
    fit_and_predict,
    get_strategy,
    query_pool,
    run_round,
)

from .pools import blobs, texts


def _by_hand(
    labeled: LabeledSet,
    pool: Pool,
    name: str,
    k: int,
    seed: int,
    validation: ValidationSlice | None,
    options: RoundOptions,
) -> tuple[list[int], np.ndarray, np.ndarray | None, dict[str, float], object, list[int]]:
    strategy = get_strategy(name)
    rng = np.random.default_rng(seed)
    fitted = fit_and_predict(
        labeled,
        pool,
        rng,
        options=options,
        fit_model=strategy.needs_model or validation is not None,
        fit_committee="committee_proba" in strategy.requires,
    )
    queried = query_pool(fitted, labeled, pool, strategy, k, rng, options=options)
    evaluation = evaluate_model(fitted.model, validation, options=options)
    return (
        queried.positions.tolist(),
        queried.scores,
        fitted.pool_proba,
        evaluation.metrics,
        evaluation.threshold,
        fitted.prior_only_labels,
    )


def _fields(
    r: RoundResult,
) -> tuple[list[int], np.ndarray, np.ndarray | None, dict[str, float], object, list[int]]:
    return r.positions.tolist(), r.scores, r.pool_proba, r.metrics, r.threshold, r.prior_only_labels


def _binary(seed: int = 2) -> tuple[LabeledSet, Pool, ValidationSlice]:
    X, y = blobs(500, seed=seed)
    txt, _ = texts(500, seed=seed)
    return (
        LabeledSet(X[:60], y[:60]),
        Pool(X[60:400], texts=txt[60:400]),
        ValidationSlice(X[400:], y[400:]),
    )


@pytest.mark.parametrize(
    "name", ["random", "seed_keyword", "margin", "vote_entropy", "kl_max", "margin+kmeans", "coreset"]
)
def test_the_steps_composed_by_hand_give_the_round_result(name: str) -> None:
    labeled, pool, validation = _binary()
    options = RoundOptions(committee_size=4, cost_fn=5.0)
    result = run_round(
        labeled, pool, name, 15, np.random.default_rng(3), validation=validation, options=options
    )
    hand = _by_hand(labeled, pool, name, 15, 3, validation, options)
    got = _fields(result)
    assert got[0] == hand[0]
    np.testing.assert_array_equal(got[1], hand[1])
    assert got[2] is not None and hand[2] is not None
    np.testing.assert_array_equal(got[2], hand[2])
    assert got[3] == hand[3] and "f1_at_cost_threshold" in got[3]
    assert got[4] == hand[4] and result.threshold is not None and result.threshold.cost_fn == 5.0
    assert got[5] == hand[5]
    assert result.strategy == name
    expected = {"fit", "predict", "score", "select", "metrics", "total"}
    if "committee_proba" in get_strategy(name).requires:
        expected.add("committee")
    assert set(result.timings) == expected


def test_the_steps_compose_for_a_multilabel_round_without_a_validation_slice() -> None:
    X, y = blobs(300, seed=4)
    Y = np.column_stack([y, (X[:, 1] > 0).astype(int)])
    labeled, pool = LabeledSet(X[:80], Y[:80]), Pool(X[80:])
    options = RoundOptions(task="multilabel", multilabel_aggregate="mean", committee_size=3)
    result = run_round(labeled, pool, "vote_entropy", 10, np.random.default_rng(9), options=options)
    hand = _by_hand(labeled, pool, "vote_entropy", 10, 9, None, options)
    assert result.positions.tolist() == hand[0]
    np.testing.assert_array_equal(result.scores, hand[1])
    assert result.metrics == {} == hand[3] and result.threshold is None


def test_evaluate_model_is_empty_without_a_model_or_a_slice() -> None:
    labeled, pool, validation = _binary()
    fitted = fit_and_predict(
        labeled, pool, np.random.default_rng(0), options=RoundOptions(), fit_model=True, fit_committee=False
    )
    assert fitted.model is not None
    assert evaluate_model(None, validation, options=RoundOptions()).metrics == {}
    assert evaluate_model(fitted.model, None, options=RoundOptions()).threshold is None


@pytest.mark.parametrize("name", ["random", "seed_stratified", "vote_entropy", "margin+kcenter", "coreset"])
def test_a_round_replays_its_positions_from_the_same_seed(name: str) -> None:
    labeled, pool, validation = _binary(seed=5)
    options = RoundOptions(committee_size=3)

    def positions(seed: int) -> list[int]:
        result = run_round(labeled, pool, name, 12, np.random.default_rng(seed), options=options)
        return [int(p) for p in result.positions]

    assert positions(11) == positions(11)
    if name in ("random", "seed_stratified", "vote_entropy"):
        assert positions(11) != positions(12)


def test_a_bad_validation_slice_is_refused_before_any_fitting_even_on_a_cold_start() -> None:
    X, y = blobs(100)
    with pytest.raises(InvalidInputError, match=r"features_val \(10, 8\) and labels_val \(9,\)"):
        run_round(
            LabeledSet(X[:0], y[:0]),
            Pool(X[:80]),
            "random",
            5,
            np.random.default_rng(0),
            validation=ValidationSlice(X[80:90], y[80:89]),
        )
    with pytest.raises(InvalidInputError, match=r"features_val must be 2-D \(n, d\); got shape \(10,\)"):
        run_round(
            LabeledSet(X[:20], y[:20]),
            Pool(X[20:80]),
            "margin",
            5,
            np.random.default_rng(0),
            validation=ValidationSlice(X[80:90, 0], y[80:90]),
        )


def test_each_step_checks_its_inputs_and_names_the_shapes() -> None:
    X, y = blobs(60)
    with pytest.raises(InvalidInputError, match=r"features_labeled \(10, 8\) and labels \(9,\)"):
        fit_and_predict(
            LabeledSet(X[:10], y[:9]),
            Pool(X[10:]),
            np.random.default_rng(0),
            options=RoundOptions(),
            fit_model=True,
            fit_committee=False,
        )
    labeled, pool = LabeledSet(X[:10], y[:10]), Pool(X[10:])
    fitted = fit_and_predict(
        labeled, pool, np.random.default_rng(0), options=RoundOptions(), fit_model=True, fit_committee=False
    )
    with pytest.raises(InvalidInputError, match=r"k=51 is larger than the pool \(n=50\)"):
        query_pool(
            fitted,
            labeled,
            pool,
            get_strategy("margin"),
            51,
            np.random.default_rng(0),
            options=RoundOptions(),
        )
