"""Model readiness and the audit slice through the real round service (in-memory Label Studio):
a model that beats its baseline selects, one at chance gives way to the project's model-free
strategy and says so, every batch carries its audit slice, and the savings estimate counts
the labels that came back."""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from tests import factories
from tests.fakes import FakeGateway
from tests.rounds.helpers import annotate, annotate_with_gold, coin_flip_pairs, toxicity_pool
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.rounds.models import Round
from workbench.rounds.savings import round_savings
from workbench.rounds.services import round_config_get, round_config_update, round_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("trigger", "api")
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_start(**kwargs)
        round_.refresh_from_db()
        assert round_.status == "done", round_.error
        return round_

    return run


def test_a_toxicity_model_that_beats_the_prior_selects_and_the_round_records_the_figures(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project()
    items = toxicity_pool(project, 150)
    round_config_update(project=project, validation_percent=30)
    annotate_with_gold(items[:60])

    round_ = start(project=project, strategy="margin", batch_size=20, buffer_size=0, seed=5)

    assert (round_.strategy, round_.strategy_used, round_.strategy_reason) == ("margin", "margin", "")
    assert round_.signal == Round.Signal.SIGNAL
    figures = round_.readiness
    assert figures["metric"] == "roc_auc" and figures["evidence"] == "validation"
    assert figures["n"] == round_.validation_size
    # The prior-predicting classifier ranks nothing: ROC-AUC 0.5; the model's is on the slice.
    assert figures["baseline"] == 0.5 and figures["gain_low"] > 0
    stored = round_.validation_scores
    assert figures["value"] == pytest.approx(roc_auc_score(stored["y"], stored["p"]), abs=1e-5)
    assert round_.parameters["fallback_strategy"] == "random"


def test_a_preference_model_at_chance_is_no_signal_and_the_round_falls_back_to_the_model_free_strategy(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project("preference")
    items = coin_flip_pairs(project, 240)
    round_config_update(project=project, validation_percent=50)
    annotate_with_gold(items[:120])

    round_ = start(project=project, strategy="margin", batch_size=10, buffer_size=0, seed=3)

    assert round_.signal == Round.Signal.NO_SIGNAL
    assert round_.strategy == "margin"  # what was asked
    assert round_.strategy_used == kinds.spec_of("preference").model_free_strategy
    assert "no signal" in round_.strategy_reason and "chance" in round_.strategy_reason
    figures = round_.readiness
    assert figures["metric"] == "accuracy" and figures["baseline"] == 0.5
    assert figures["method"] == "Wilson" and figures["gain_low"] <= 0 <= figures["gain_high"]
    assert round_.selections.count() == 10


def test_the_projects_own_fallback_strategy_is_used_and_must_need_no_model(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project("preference")
    items = coin_flip_pairs(project, 160, seed=1)
    with pytest.raises(ValidationFailed, match="without a model"):
        round_config_update(project=project, fallback_strategy="margin")
    with pytest.raises(ValidationFailed, match="clairvoyant"):
        round_config_update(project=project, fallback_strategy="clairvoyant")
    round_config_update(project=project, fallback_strategy="coreset", validation_percent=50)
    annotate_with_gold(items[:80])

    round_ = start(project=project, strategy="vote_entropy", batch_size=8, buffer_size=0, seed=2)

    assert (round_.signal, round_.strategy_used) == (Round.Signal.NO_SIGNAL, "coreset")
    assert round_.parameters["fallback_strategy"] == "coreset"


def test_a_cold_start_round_has_no_model_and_says_so(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    toxicity_pool(project, 40)
    round_ = start(project=project, strategy="seed_keyword", batch_size=5, buffer_size=0, seed=1)
    assert (round_.signal, round_.strategy_used) == (Round.Signal.NO_SIGNAL, "seed_keyword")
    assert round_.readiness["evidence"] == "none" and "no model" in round_.readiness["reason"]
    assert round_.strategy_reason == ""  # a model-free strategy needs no fallback


def test_every_batch_carries_its_audit_slice_recorded_per_selection(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    items = toxicity_pool(project, 200)
    round_config_update(project=project, audit_percent=25, validation_percent=20)
    annotate_with_gold(items[:50])

    round_ = start(project=project, strategy="margin", batch_size=40, buffer_size=0, seed=9)

    rows = list(round_.selections.values_list("audit", "priority", "predicted"))
    assert len(rows) == 40
    assert sum(audit for audit, _, _ in rows) == 10  # 40 * 25% is whole: no rounding
    assert all(predicted is not None and 0 <= predicted <= 1 for _, _, predicted in rows)
    # The strategy's picks are its top priorities among the rest; audit picks are anywhere.
    strategy_priorities = [p for audit, p, _ in rows if not audit]
    assert strategy_priorities == sorted(strategy_priorities, reverse=True)
    assert round_.parameters["audit_percent"] == 25


def test_the_audit_percent_is_bounds_checked(fake_gateway: FakeGateway) -> None:
    project = factories.project()
    with pytest.raises(ValidationFailed, match="audit_percent"):
        round_config_update(project=project, audit_percent=60)
    assert round_config_get(project=project).audit_percent == 5.0


def test_the_savings_estimate_waits_for_audit_labels_then_counts_the_labels_that_came_back(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project()
    items = toxicity_pool(project, 400)
    round_config_update(project=project, audit_percent=50, validation_percent=20)
    annotate_with_gold(items[:40])
    round_ = start(project=project, strategy="margin", batch_size=80, buffer_size=0, seed=4)

    before = round_savings(round_).estimate
    assert not before.ready and before.message == "not enough audit labels yet (0 of 30)"

    selections = list(round_.selections.select_related("item"))
    for selection in selections:
        annotate(selection.item, selection.item.gold, ls_user_id=3003)
    after = round_savings(round_)

    audit = [s.item.gold for s in selections if s.audit]
    picked = [s.item.gold for s in selections if not s.audit]
    estimate = after.estimate
    assert after.useful == "toxic labels" and after.rounds == 1
    assert (estimate.audit_labeled, estimate.audit_useful) == (len(audit), audit.count("toxic"))
    assert (estimate.strategy_labeled, estimate.strategy_useful) == (len(picked), picked.count("toxic"))
    assert estimate.ready, estimate.message
    expected = (picked.count("toxic") / len(picked)) / (audit.count("toxic") / len(audit))
    assert estimate.ratio == pytest.approx(expected)
    assert estimate.ratio_low < estimate.ratio < estimate.ratio_high
    assert estimate.saved == pytest.approx((expected - 1) * len(picked))


def test_the_round_api_shows_readiness_fallback_and_savings(fake_gateway: FakeGateway, start) -> None:
    owner = factories.user()
    project = factories.project("preference", owner=owner)
    items = coin_flip_pairs(project, 200, seed=2)
    round_config_update(project=project, validation_percent=50)
    annotate_with_gold(items[:100])
    round_ = start(project=project, strategy="margin", batch_size=10, buffer_size=0, seed=8)
    client = factories.api_client(owner)

    body = client.get(f"/api/projects/{project.id}/rounds/{round_.id}/").json()

    assert body["signal"] == "no_signal"
    assert (body["strategy"], body["strategy_used"]) == ("margin", "split_votes")
    assert body["readiness"]["metric"] == "accuracy" and "no signal" in body["strategy_reason"]
    assert body["savings"]["useful"] == "pairs the model got wrong"
    assert body["savings"]["message"].startswith("not enough audit labels yet")
    assert {"audit", "predicted"} <= body["selection"][0].keys()
    settings = client.get(f"/api/projects/{project.id}/rounds/settings/").json()
    assert (settings["fallback_strategy"], settings["model_free_strategy"]) == ("", "split_votes")
    refused = client.patch(
        f"/api/projects/{project.id}/rounds/settings/", {"audit_percent": 51}, format="json"
    )
    assert refused.status_code == 400 and "audit_percent" in refused.content.decode()
