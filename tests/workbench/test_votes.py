"""The vote policy's pure parts: which answer of an annotator counts, and the named tie rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import label_quality as lq
from exports.records import LabelSpace
from exports.rows import text_fields
from workbench import votes
from workbench.projects.kinds import SPECS, Kind, spec_of

BINARY = spec_of(Kind.TOXICITY_BINARY)
MULTI = spec_of(Kind.TOXICITY_MULTILABEL)
PREF = spec_of(Kind.PREFERENCE)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def answer(ls_id: int, label: str, *, user: int = 1, item: int = 1, minutes: int | None = 0) -> votes.Answer:
    at = None if minutes is None else T0 + timedelta(minutes=minutes)
    return votes.Answer(item, user, ls_id, label, created_at=T0, updated_at=at)


def test_an_annotators_newest_answer_counts_by_label_studio_update_time_not_arrival() -> None:
    # The newer update arrives first; arrival order must not matter.
    newest = votes.newest_per_annotator([answer(7, "toxic", minutes=5), answer(3, "non-toxic", minutes=1)])
    assert [a.label for a in newest[1]] == ["toxic"]


def test_equal_update_times_fall_back_to_the_label_studio_annotation_id() -> None:
    newest = votes.newest_per_annotator([answer(9, "toxic"), answer(4, "non-toxic")])
    assert [a.ls_annotation_id for a in newest[1]] == [9]


def test_a_review_answer_replaces_the_reviewers_earlier_one_and_others_stay() -> None:
    history = [
        answer(1, "toxic", user=1),
        answer(2, "toxic", user=2),
        answer(3, "non-toxic", user=1, minutes=60),  # user 1's review answer
    ]
    newest = votes.newest_per_annotator(history)
    assert [(a.ls_user_id, a.label) for a in newest[1]] == [(1, "non-toxic"), (2, "toxic")]


@pytest.mark.parametrize(("rule", "expected"), [("toward_toxic", "toxic"), ("abstain", None)])
def test_a_binary_one_one_tie_follows_the_named_rule(rule: str, expected: str | None) -> None:
    assert votes.decide(BINARY, ["toxic", "non-toxic"], rule=rule) == expected
    assert votes.decide(BINARY, ["non-toxic", "toxic", "non-toxic"], rule=rule) == "non-toxic"


@pytest.mark.parametrize(
    ("labels", "tie", "abstain"),
    [
        (["A", "B"], "tie", None),
        (["A", "tie"], "tie", None),
        (["A", "A", "B"], "A", "A"),
        (["tie"], "tie", "tie"),
    ],
)
def test_a_split_preference_is_a_tie_or_nothing(labels: list[str], tie: str, abstain: str | None) -> None:
    assert votes.decide(PREF, labels, rule="tie") == tie
    assert votes.decide(PREF, labels, rule="abstain") == abstain


def test_a_multilabel_category_ticked_by_half_goes_by_the_rule() -> None:
    labels = [("toxic", "insult"), ("toxic",)]
    assert votes.decide(MULTI, labels, rule="toward_toxic") == ("toxic", "insult")
    assert votes.decide(MULTI, labels, rule="abstain") is None
    assert votes.decide(MULTI, [("toxic",), ("toxic",), ()], rule="abstain") == ("toxic",)


def test_a_rule_that_does_not_fit_the_kind_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match="'tie' does not apply to toxicity_binary; valid: toward_toxic, abstain"
    ):
        votes.decide(BINARY, ["toxic"], rule="tie")
    with pytest.raises(ValueError, match="unknown tie rule 'prior'; valid: abstain, toward_toxic, tie"):
        votes.decide(BINARY, ["toxic"], rule="prior")


def test_agreement_is_the_top_share_whatever_the_rule() -> None:
    assert votes.agreement(PREF, ["A", "B"]) == 0.5
    assert votes.shares(BINARY, ["toxic", "toxic", "non-toxic"]) == pytest.approx(
        {"toxic": 2 / 3, "non-toxic": 1 / 3}
    )
    assert votes.agreement(BINARY, []) is None


def test_every_kind_names_its_consensus_and_training_rules_among_its_valid_ones() -> None:
    for spec in SPECS.values():
        assert spec.consensus_ties in spec.tie_rules and spec.training_ties in spec.tie_rules
        assert {str(r) for r in spec.tie_rules} <= {str(r) for r in votes.TieRule}


def test_the_kind_descriptions_agree_with_the_libraries_they_feed() -> None:
    assert PREF.codes == lq.PREFERENCE_CATEGORIES  # find_preference_issues reads code 2 as tie
    assert BINARY.codes.index("toxic") == 1 and BINARY.target("toxic") == 1.0  # 1 = toxic
    assert PREF.target("A") == 1.0 and PREF.target("B") == 0.0 and PREF.target("tie") == 0.5
    for spec in SPECS.values():
        assert set(spec.codes) == set(spec.labels)
        assert LabelSpace(spec.export_kind, spec.labels).classes == spec.labels  # releases accept them
        assert set(text_fields(spec.export_kind)) == set(spec.data_fields)
        assert set(spec.embed_fields) == set(spec.data_fields)


def test_a_preference_item_becomes_one_flat_feature_row() -> None:
    vectors = np.random.default_rng(0).normal(size=(5, 3, 8)).astype(np.float32)
    rows = PREF.feature_rows(vectors)
    assert rows.shape == (5, 16)
    assert BINARY.feature_rows(vectors[:, :1, :]).shape == (5, 8)
    with pytest.raises(ValueError, match=r"needs embeddings of shape \(n, 3, d\)"):
        PREF.feature_rows(vectors[:, 0, :])


def test_model_weighted_ties_break_like_the_consensus_rule() -> None:
    assert BINARY.codes[votes.tie_order(BINARY)[0]] == "toxic"
    assert PREF.codes[votes.tie_order(PREF)[0]] == "tie"
    assert votes.tie_order(MULTI) == [1, 0]
