"""Rounds against the in-memory Label Studio: what gets pushed, predicted, served and recorded."""

from __future__ import annotations

import pytest

from tests import factories
from tests.fakes import FakeGateway
from tests.rounds.helpers import annotate, annotate_with_gold, toxicity_pool
from workbench.errors import Conflict, ValidationFailed
from workbench.projects.models import Item
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_run, round_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """round_start as a request would call it: the round runs when the transaction commits."""

    def run(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("trigger", "api")
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_start(**kwargs)
        round_.refresh_from_db()
        return round_

    return run


def served_order(gateway: FakeGateway, project, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Item ids a fresh annotator is served, in order, labeling each."""
    gateway.create_user(email="reader@x.test", password="pw", first_name="R", last_name="R")
    token = gateway.user_token(email="reader@x.test", password="pw")
    out = []
    for _ in range(n):
        task = gateway.next_task(project_id=project.ls_project_id, user_token=token)
        if task is None:
            break
        out.append(task.data["item_id"])
        gateway.submit_annotation(task_id=task.id, result=[], lead_time=1.0, user_token=token)
    return out


def test_a_cold_start_round_pushes_the_batch_and_a_buffer_and_the_queue_serves_the_batch_first(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project()
    toxicity_pool(project, 60)

    round_ = start(project=project, strategy="seed_keyword", batch_size=8, buffer_size=4, seed=7)

    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert (round_.strategy, round_.seed, round_.training_size) == ("seed_keyword", 7, 0)
    assert round_.pushed_count == 12
    assert Item.objects.filter(project=project, ls_task_id__isnull=False).count() == 12
    batch = list(round_.selections.order_by("rank").values_list("item_id", flat=True))
    assert len(batch) == 8
    assert served_order(fake_gateway, project, 8) == batch
    assert fake_gateway.projects[project.ls_project_id].model_version == round_.model_version
    assert {"load", "embed", "publish", "total"} <= round_.timings.keys()


def test_a_model_round_trains_on_majority_labels_and_records_validation_metrics(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project()
    items = toxicity_pool(project, 120)
    round_config_update(project=project, validation_percent=30, cost_fp=1.0, cost_fn=5.0)
    annotate_with_gold(items[:60])
    annotate(items[0], "non-toxic", ls_user_id=2002)  # a 1-1 tie: no training label
    annotate(items[1], None, ls_user_id=2002, cancelled=True)  # ignored

    round_ = start(project=project, strategy="margin", batch_size=10, buffer_size=0, seed=1)

    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert round_.validation_size and round_.validation_size > 10
    assert 0 < round_.training_size < 60  # held-out and tied items are not trained on
    assert {"f1", "pr_auc", "precision", "recall"} <= round_.metrics.keys()
    assert round_.threshold is not None and round_.threshold["cost_fn"] == 5.0
    assert round_.selections.count() == 10
    assert round_.parameters["featurizer"].startswith("hashed:")


def test_the_validation_slice_is_never_queued(fake_gateway: FakeGateway, start) -> None:
    from workbench.rounds.labels import in_validation_slice

    project = factories.project()
    items = toxicity_pool(project, 80)
    round_config_update(project=project, validation_percent=25)
    round_ = start(project=project, strategy="random", batch_size=30, buffer_size=50, seed=3)
    round_.refresh_from_db()
    reserved = {i.id for i in items if in_validation_slice(i.content_hash, 25)}
    assert reserved
    pushed = set(Item.objects.filter(project=project, ls_task_id__isnull=False).values_list("id", flat=True))
    assert not reserved & pushed
    assert round_.pool_size == 80 - len(reserved)


def test_replaying_a_seed_replays_the_selection(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    items = toxicity_pool(project, 60)
    annotate_with_gold(items[:20])
    first = start(project=project, strategy="vote_entropy", batch_size=5, seed=11)
    second = start(project=project, strategy="vote_entropy", batch_size=5, seed=11)
    assert list(first.selections.values_list("item_id", flat=True)) == list(
        second.selections.values_list("item_id", flat=True)
    )
    assert first.model_version != second.model_version


def test_it_rejects_unknown_strategies_listing_the_valid_ones(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    with pytest.raises(ValidationFailed) as exc:
        start(project=project, strategy="clairvoyant")
    assert "margin" in exc.value.message and "seed_keyword" in exc.value.message


def test_a_model_strategy_needs_labels_and_says_how_to_start(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    toxicity_pool(project, 10)
    with pytest.raises(ValidationFailed, match="seed_keyword"):
        start(project=project, strategy="margin")


def test_only_one_round_at_a_time_and_running_a_round_twice_does_nothing(
    fake_gateway: FakeGateway, django_capture_on_commit_callbacks
) -> None:
    project = factories.project()
    toxicity_pool(project, 30)
    with django_capture_on_commit_callbacks() as enqueued:
        round_ = round_start(project=project, trigger="api", strategy="random", batch_size=5, seed=1)
    assert len(enqueued) == 1 and Round.objects.get(id=round_.id).status == "pending"
    with pytest.raises(Conflict):
        round_start(project=project, trigger="api", strategy="random")
    enqueued[0]()
    round_.refresh_from_db()
    assert round_.status == "done"
    finished = round_.finished_at
    enqueued[0]()  # a redelivered task
    round_run(round_id=round_.id)
    round_.refresh_from_db()
    assert round_.finished_at == finished and round_.selections.count() == 5


def test_a_failing_round_is_recorded_as_failed(
    fake_gateway: FakeGateway, start, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.labelstudio.types import LabelStudioError

    project = factories.project()
    toxicity_pool(project, 20)

    def refuse(**kwargs: object) -> None:
        raise LabelStudioError("predictions refused", permanent=True, status=400)

    monkeypatch.setattr(fake_gateway, "create_predictions", refuse)
    round_ = start(project=project, strategy="random", batch_size=5, seed=1)
    round_.refresh_from_db()
    assert round_.status == "failed" and "predictions refused" in round_.error
    # ...and does not block the next one.
    monkeypatch.undo()
    assert start(project=project, strategy="random", batch_size=5).number == 2


def test_fully_annotated_items_leave_the_pool_and_partly_annotated_ones_stay(
    fake_gateway: FakeGateway, start
) -> None:
    project = factories.project(annotators_per_item=2)
    items = toxicity_pool(project, 30)
    annotate_with_gold(items[:10])  # one of two annotations each
    for item in items[:5]:
        annotate(item, item.gold, ls_user_id=3003)  # now complete
    round_config_update(project=project, validation_percent=0)
    round_ = start(project=project, strategy="margin", batch_size=30, seed=2)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert round_.pool_size == 25 and round_.training_size == 10
    assert not {i.id for i in items[:5]} & set(round_.selections.values_list("item_id", flat=True))


def test_activelab_scores_items_with_conflicting_annotators(fake_gateway: FakeGateway, start) -> None:
    project = factories.project(annotators_per_item=3)
    items = toxicity_pool(project, 40)
    round_config_update(project=project, validation_percent=0)
    annotate_with_gold(items[:20])
    for item in items[:6]:
        annotate(item, "toxic" if item.gold == "non-toxic" else "non-toxic", ls_user_id=4004)
    round_ = start(project=project, strategy="activelab", batch_size=10, seed=5)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    assert round_.selections.count() == 10


def test_prediction_scores_stay_within_what_label_studio_accepts(fake_gateway: FakeGateway, start) -> None:
    project = factories.project()
    toxicity_pool(project, 40)
    round_ = start(project=project, strategy="random", batch_size=20, buffer_size=20, seed=4)
    scores = [
        t.scores[round_.model_version]
        for t in fake_gateway.tasks.values()
        if round_.model_version in t.scores
    ]
    assert len(scores) == round_.predicted_count == len(set(scores)) > 30
    assert all(0.0 <= s < 1.0 for s in scores)


def test_a_round_whose_worker_was_lost_is_taken_over_by_a_redelivered_task(
    fake_gateway: FakeGateway, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    project = factories.project()
    toxicity_pool(project, 20)
    with django_capture_on_commit_callbacks():  # enqueued, never run
        round_ = round_start(project=project, trigger="api", strategy="random", batch_size=3, seed=1)
    running = Round.objects.filter(id=round_.id)
    running.update(status="running", started_at=timezone.now() - timedelta(minutes=5))
    round_run(round_id=round_.id)  # still within its time: another worker may be on it
    assert Round.objects.get(id=round_.id).status == "running"
    Round.objects.filter(id=round_.id).update(started_at=timezone.now() - timedelta(hours=3))
    round_run(round_id=round_.id)
    assert Round.objects.get(id=round_.id).status == "done"
