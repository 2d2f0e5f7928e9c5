"""The round pages in a real headless Chromium say when a model has no signal (and which
strategy selected instead) and show the live savings estimate from the audit slice."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import assert_not_blank
from tests.rounds.helpers import annotate, annotate_with_gold, coin_flip_pairs, toxicity_pool
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_run, round_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _round(project, strategy: str, batch_size: int, seed: int) -> Round:  # type: ignore[no-untyped-def]
    round_ = round_start(
        project=project, trigger="command", strategy=strategy, batch_size=batch_size, buffer_size=0, seed=seed
    )
    round_run(round_id=round_.id)  # unless its on-commit task already ran it
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    return round_


def test_the_round_pages_show_no_signal_with_the_fallback_and_the_savings_estimate(
    browser_page, live_server, fake_gateway
) -> None:  # type: ignore[no-untyped-def]
    engineer = user_create(email="mle@example.test", role=Role.ML_ENGINEER, password="s3cret-pass")
    pairs = factories.project("preference", owner=engineer)
    round_config_update(project=pairs, validation_percent=50)
    annotate_with_gold(coin_flip_pairs(pairs, 200)[:100])
    chance = _round(pairs, "margin", 10, 1)

    toxicity = factories.project(owner=engineer)
    round_config_update(project=toxicity, validation_percent=20, audit_percent=50)
    annotate_with_gold(toxicity_pool(toxicity, 400)[:40])
    learned = _round(toxicity, "margin", 80, 4)
    for selection in learned.selections.select_related("item"):
        annotate(selection.item, selection.item.gold, ls_user_id=3003)

    page = browser_page
    page.goto(f"{live_server.url}/rounds/projects/{pairs.id}/{chance.id}/")
    page.fill("input[name=username]", "mle@example.test")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("#login button")
    page.wait_for_selector("#readiness")
    readiness = page.locator("#readiness").inner_text()
    assert "No signal" in readiness and "chance" in readiness
    assert "accuracy" in page.locator("#readiness-figures").inner_text()
    assert "Selected with split_votes instead of margin" in page.locator("#fallback").inner_text()
    assert "not enough audit labels yet" in page.locator("#savings").inner_text()

    page.goto(f"{live_server.url}/rounds/projects/{pairs.id}/")
    row = page.locator(f"#rounds tr[data-round='{chance.id}']").inner_text()
    assert "no signal" in row and "split_votes" in row and "asked margin" in row

    page.goto(f"{live_server.url}/rounds/projects/{toxicity.id}/{learned.id}/")
    page.wait_for_selector("#savings .estimate")
    assert "Signal" in page.locator("#readiness").inner_text()
    estimate = page.locator("#savings .estimate").inner_text()
    assert estimate.startswith("Active learning saves about") and "95% interval" in estimate
    assert page.locator("#batch tr.audit").count() == learned.selections.filter(audit=True).count() > 0
    assert_not_blank(page.screenshot(full_page=True), "round page")
