"""Rounds on multi-label and preference projects, and the start_round command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.rounds.helpers import annotate, annotate_with_gold, toxicity_pool
from workbench.projects.models import Item
from workbench.projects.services import items_import_records
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_start

pytestmark = pytest.mark.django_db

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def test_a_multilabel_round_records_per_label_metrics_and_thresholds(
    fake_gateway,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    project = factories.project("toxicity_multilabel")
    records = factories.multilabel_records()
    items_import_records(project=project, records=records)
    round_config_update(project=project, validation_percent=30)
    annotate_with_gold(list(Item.objects.filter(project=project).order_by("id")[:100]))
    with django_capture_on_commit_callbacks(execute=True):
        round_ = round_start(project=project, trigger="api", strategy="margin", batch_size=5, seed=1)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert {"f1/toxic", "pr_auc/toxic", "f1/insult", "macro_f1"} <= round_.metrics.keys()
    assert {"toxic", "insult"} <= round_.threshold.keys()
    assert round_.readiness["metric"] == "roc_auc_any_label" and round_.signal in ("signal", "no_signal")
    assert all(0 <= p <= 1 for p in round_.selections.values_list("predicted", flat=True))


def test_a_preference_round_records_accuracy(fake_gateway, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    records = factories.preference_records(80)
    items_import_records(project=project, records=records)
    round_config_update(project=project, validation_percent=30)
    annotate_with_gold(list(Item.objects.filter(project=project).order_by("id")[:50]))
    with django_capture_on_commit_callbacks(execute=True):
        round_ = round_start(project=project, trigger="api", strategy="entropy", batch_size=5, seed=1)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert round_.metrics["accuracy"] > 0.5 and round_.threshold is None
    # A learnable preference beats chance, so the model-based strategy keeps selecting.
    assert (round_.signal, round_.strategy_used) == ("signal", "entropy")


def test_activelab_is_refused_for_preference_projects(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from workbench.errors import ValidationFailed

    project = factories.project("preference")
    with pytest.raises(ValidationFailed, match="does not work on preference"):
        round_start(project=project, trigger="api", strategy="activelab")


@pytest.mark.django_db(transaction=True)  # the round runs on commit, as outside tests
def test_start_round_command_runs_a_round_and_reports_it(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    items = toxicity_pool(project, 60)
    annotate_with_gold(items[:30])
    annotate(items[30], None, cancelled=True)
    out = io.StringIO()
    call_command(
        "start_round", project.name, "--strategy", "margin", "--batch-size", "4", "--seed", "9", stdout=out
    )
    round_ = Round.objects.get(project=project)
    assert (round_.trigger, round_.status, round_.seed) == ("command", "done", 9)
    assert "Round 1 done" in out.getvalue() and round_.model_version in out.getvalue()
    with pytest.raises(CommandError, match="No project"):
        call_command("start_round", "no such project")
