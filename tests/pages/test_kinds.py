"""The round pages for multi-label (one PR curve and cost table per label) and preference
projects (accuracy with a Wilson interval, no threshold)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.rounds.helpers import annotate_with_gold
from workbench.accounts.models import Role
from workbench.projects.models import Item
from workbench.projects.services import items_import_records
from workbench.rounds import evaluation
from workbench.rounds.services import round_config_update, round_run, round_start

pytestmark = pytest.mark.django_db

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def run_round(project, strategy: str):  # type: ignore[no-untyped-def]
    round_config_update(project=project, validation_percent=30)
    annotate_with_gold(list(Item.objects.filter(project=project).order_by("id")[:100]))
    round_ = round_start(project=project, trigger="api", strategy=strategy, batch_size=5, seed=1)
    round_run(round_id=round_.id)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    return round_


def page(owner, project, round_) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    for url in (f"/rounds/projects/{project.id}/learning-curve.svg", f"/rounds/projects/{project.id}/"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/rounds/projects/{project.id}/{round_.id}/pr-curve.svg").status_code == 200
    response = client.get(f"/rounds/projects/{project.id}/{round_.id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_multilabel_round_shows_a_curve_and_a_cost_table_per_label(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project("toxicity_multilabel", owner=owner)
    records = factories.multilabel_records()
    items_import_records(project=project, records=records)
    round_ = run_round(project, "margin")

    views = {view.label: view for view in evaluation.threshold_views(round_)}
    assert set(views) == set(LABELS)
    assert views["toxic"].chosen is not None and views["threat"].chosen is None  # no threat positives
    assert evaluation.learning_point(round_).value == pytest.approx(round_.metrics["macro_f1"])
    html = page(owner, project, round_)
    assert html.count('<table class="costs"') == len(LABELS)
    assert f"{round_.threshold['toxic']['threshold']:.3f} (chosen)" in html


def test_a_preference_round_shows_accuracy_with_a_wilson_interval_and_no_threshold(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project("preference", owner=owner)
    records = factories.preference_records(120)
    items_import_records(project=project, records=records)
    round_ = run_round(project, "entropy")

    point = evaluation.learning_point(round_)
    assert point.metric == "accuracy" and point.interval_method == "Wilson"
    assert point.interval is not None and point.interval[0] <= point.value <= point.interval[1]
    assert evaluation.threshold_views(round_) == []
    html = page(owner, project, round_)
    assert "preference rounds have no decision threshold" in html
