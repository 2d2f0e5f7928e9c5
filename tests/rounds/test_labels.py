import pytest

from workbench.rounds.labels import gold_target, in_validation_slice, majority_target


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["toxic"], 1.0),
        (["non-toxic", "toxic", "non-toxic"], 0.0),
        (["toxic", "non-toxic"], None),  # a tie is no label
        ([None, "toxic"], 1.0),  # skipped annotations carry no label
        ([], None),
    ],
)
def test_binary_targets_are_the_strict_majority(labels: list, expected: float | None) -> None:
    assert majority_target("toxicity_binary", labels) == expected


def test_multilabel_targets_take_each_category_more_than_half_ticked() -> None:
    labels = [["toxic", "insult"], ["toxic"], ["obscene", "toxic", "insult"]]
    assert majority_target("toxicity_multilabel", labels) == (1, 0, 0, 0, 1, 0)
    assert majority_target("toxicity_multilabel", [["toxic"], ["toxic"], []]) == (1, 0, 0, 0, 0, 0)


def test_a_multilabel_tie_abstains_in_training() -> None:
    # A category ticked by exactly half: training abstains (the vote policy's "abstain" rule)
    # rather than guess, so the item gets no target instead of an arbitrary "absent".
    assert majority_target("toxicity_multilabel", [["toxic"], []]) is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [(["A", "A", "B"], 1.0), (["B"], 0.0), (["tie"], 0.5), (["A", "B"], 0.5), (["A", "tie"], 0.5)],
)
def test_preference_targets(labels: list, expected: float) -> None:
    assert majority_target("preference", labels) == expected


def test_gold_becomes_a_target() -> None:
    assert gold_target("toxicity_binary", "toxic") == 1.0
    assert gold_target("toxicity_multilabel", ["threat"]) == (0, 0, 0, 1, 0, 0)
    assert gold_target("preference", None) is None


def test_the_validation_slice_is_deterministic_and_about_the_stated_share() -> None:
    hashes = [f"{i:064x}" for i in range(5000)]
    chosen = [h for h in hashes if in_validation_slice(h, 10)]
    assert chosen == [h for h in hashes if in_validation_slice(h, 10)]
    assert 400 < len(chosen) < 600
    assert not any(in_validation_slice(h, 0) for h in hashes)
