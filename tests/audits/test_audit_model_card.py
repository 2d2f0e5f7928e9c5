"""The model card: Mitchell et al. sections, fairness table with intervals and "too few items"."""

from __future__ import annotations

import numpy as np

from audits import DatasetDescription, ModelCardInput, fairness_audit, render_model_card

SECTIONS = [
    "## Model details",
    "## Intended use",
    "## Factors",
    "## Metrics",
    "## Evaluation data",
    "## Training data",
    "## Ethical considerations",
    "## Caveats and recommendations",
]


def card() -> ModelCardInput:
    rng = np.random.default_rng(0)
    n = 800
    y = rng.integers(0, 2, n)
    s = rng.normal(y * 1.5, 1.0)
    big = rng.random(n) < 0.4
    tiny = np.zeros(n, bool)
    tiny[:12] = True
    report = fairness_audit(
        y, s, {"muslim": big, "sikh": tiny}, threshold=0.4, rng=np.random.default_rng(1), n_resamples=30
    )
    return ModelCardInput(
        model_name="toxicity",
        version="round-3",
        date="2026-12-01",
        model_type="logistic regression on MiniLM",
        developers="workbench",
        intended_use=["rank comments for review"],
        out_of_scope_use=["automatic bans"],
        validation_metrics={"roc_auc": 0.91234, "f1": 0.7},
        cost_threshold=0.4,
        evaluation_data=DatasetDescription("validation slice", n, "held out at random"),
        training_data=DatasetDescription("labelled pool", 3000),
        fairness=report,
        ethical_considerations=["texts contain slurs"],
        caveats=["English only"],
    )


def test_the_card_has_every_section_in_order_and_the_fairness_table() -> None:
    text = render_model_card(card())
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "| f1 | 0.7000 |\n| roc_auc | 0.9123 |" in text
    assert "cost threshold of the round): 0.400" in text
    muslim_row = next(line for line in text.splitlines() if line.startswith("| muslim |"))
    assert muslim_row.count("[") == 5  # five metrics, each with an interval
    sikh_row = next(line for line in text.splitlines() if line.startswith("| sikh |"))
    assert "too few items" in sikh_row
    assert "Too few evaluation items to measure every metric for: sikh." in text
    assert "Identity groups evaluated: muslim, sikh." in text


def test_the_card_is_deterministic() -> None:
    assert render_model_card(card()).encode() == render_model_card(card()).encode()


def test_a_card_without_an_audit_says_so() -> None:
    plain = ModelCardInput(
        model_name="m",
        version="1",
        date="d",
        model_type="t",
        developers="x",
        intended_use=[],
        out_of_scope_use=[],
        validation_metrics={},
        cost_threshold=0.5,
        evaluation_data=DatasetDescription("e", 1),
        training_data=DatasetDescription("t", 2),
    )
    text = render_model_card(plain)
    assert "No fairness audit was run" in text and "No identity groups were evaluated." in text
    assert all(s in text for s in SECTIONS)
