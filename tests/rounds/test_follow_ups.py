"""More annotators than ``annotators_per_item`` for split pairs (fast: the in-memory Label Studio):
``split_votes`` rounds give a fully annotated item whose votes are split a follow-up task, whose
answers count for the same item, up to the cap."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.factories import preference_records
from tests.fakes import FakeGateway
from workbench import votes
from workbench.annotations.services import annotations_reconcile
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item
from workbench.projects.services import items_import_records
from workbench.rounds import queue
from workbench.rounds.models import QueueFollowUp
from workbench.rounds.services import round_config_update, round_start

pytestmark = pytest.mark.django_db

PREFERENCE = kinds.interface("preference")


@pytest.fixture
def start(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs.setdefault("trigger", "api")
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_start(**kwargs)
        round_.refresh_from_db()
        assert round_.status == "done", round_.error
        return round_

    return run


class Crowd:
    """Label Studio users who answer a given task with a stored label, through its shown sides."""

    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway
        self.tokens: dict[str, str] = {}

    def token(self, name: str) -> str:
        if name not in self.tokens:
            email = f"{name}@crowd.test"
            self.gateway.create_user(email=email, password="pw", first_name=name, last_name="x")
            self.tokens[name] = self.gateway.user_token(email=email, password="pw")
        return self.tokens[name]

    def answer(self, name: str, task_id: int, label: str) -> None:
        task = self.gateway.tasks[task_id]
        result = PREFERENCE.result_for(label, sides=task.data["sides"])
        self.gateway.submit_annotation(
            task_id=task_id, result=result, lead_time=1.0, user_token=self.token(name)
        )

    def next_item(self, name: str, project_id: int) -> tuple[int, int]:
        task = self.gateway.next_task(project_id=project_id, user_token=self.token(name))
        assert task is not None
        return task.id, task.data["item_id"]


def counted(project, item: Item) -> list[str]:  # type: ignore[no-untyped-def]
    answers = votes.counted_answers(project=project, spec=kinds.spec_of(project.kind), item_ids=[item.id])
    return sorted(str(a.label) for a in answers.get(item.id, []))


def _split_and_agreed(fake_gateway: FakeGateway, start):  # type: ignore[no-untyped-def]
    """A preference project (2 annotators per item), one item split A/B, one agreed A/A."""
    project = factories.project("preference", annotators_per_item=2)
    items_import_records(project=project, records=preference_records(12))
    start(project=project, strategy="split_votes", batch_size=4, buffer_size=8, seed=1)
    split, agreed = Item.objects.filter(project=project).order_by("id")[:2]
    crowd = Crowd(fake_gateway)
    crowd.answer("ann", split.ls_task_id, "A")
    crowd.answer("bob", split.ls_task_id, "B")
    crowd.answer("ann", agreed.ls_task_id, "A")
    crowd.answer("bob", agreed.ls_task_id, "A")
    annotations_reconcile(project=project)
    return project, split, agreed, crowd


def test_a_split_item_gets_a_follow_up_task_showing_it_as_its_own_task_does(fake_gateway, start) -> None:  # type: ignore[no-untyped-def]
    project, split, agreed, _ = _split_and_agreed(fake_gateway, start)

    round_ = start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=2)

    (follow_up,) = QueueFollowUp.objects.filter(project=project)
    assert (follow_up.item_id, follow_up.round_id) == (split.id, round_.id)
    assert round_.parameters["follow_ups"] == 1
    own = fake_gateway.tasks[split.ls_task_id].data
    shown = fake_gateway.tasks[follow_up.ls_task_id].data
    assert shown["queue_follow_up"] == round_.id
    assert {k: v for k, v in shown.items() if k != "queue_follow_up"} == own  # same item, same sides
    batch = list(round_.selections.order_by("rank").values_list("item_id", flat=True))
    assert batch[0] == split.id and agreed.id not in batch  # split first; a confident 2-0 is done
    # The follow-up, not the item's full task, carries the new queue's first prediction (the
    # round's order starts at HEAD; relabel campaigns' follow-ups come before it).
    assert fake_gateway.tasks[follow_up.ls_task_id].scores[round_.model_version] == queue.HEAD


def test_a_third_annotator_on_the_follow_up_is_a_third_vote_and_a_repeat_counts_once(
    fake_gateway, start
) -> None:  # type: ignore[no-untyped-def]
    project, split, _, crowd = _split_and_agreed(fake_gateway, start)
    start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=2)

    task_id, item_id = crowd.next_item("cat", project.ls_project_id)  # served first
    assert item_id == split.id and task_id != split.ls_task_id
    crowd.answer("cat", task_id, "A")
    annotations_reconcile(project=project)
    assert counted(project, split) == ["A", "A", "B"]
    assert Item.objects.get(id=split.id).ls_task_id == split.ls_task_id  # the item keeps its own task

    crowd.answer("bob", task_id, "A")  # bob changes his mind on the follow-up: his newest counts
    annotations_reconcile(project=project)
    assert counted(project, split) == ["A", "A", "A"]


def test_an_open_follow_up_is_reused_and_a_full_one_replaced(fake_gateway, start) -> None:  # type: ignore[no-untyped-def]
    project, split, _, crowd = _split_and_agreed(fake_gateway, start)
    round_config_update(project=project, max_annotators_per_item=6)
    start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=2)
    (first,) = QueueFollowUp.objects.filter(project=project)
    start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=3)
    assert QueueFollowUp.objects.filter(project=project).count() == 1  # nobody answered it yet

    crowd.answer("cat", first.ls_task_id, "B")
    crowd.answer("dan", first.ls_task_id, "A")  # the follow-up has its 2 answers: 2-2 still split
    annotations_reconcile(project=project)
    round_ = start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=4)
    newest = QueueFollowUp.objects.filter(project=project).order_by("-id").first()
    assert newest is not None and newest.id != first.id and newest.round_id == round_.id
    assert counted(project, split) == ["A", "A", "B", "B"] or len(counted(project, split)) == 4


def test_the_cap_stops_follow_ups(fake_gateway, start) -> None:  # type: ignore[no-untyped-def]
    project, split, _, crowd = _split_and_agreed(fake_gateway, start)
    round_config_update(project=project, max_annotators_per_item=3)
    start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=2)
    (follow_up,) = QueueFollowUp.objects.filter(project=project)
    crowd.answer("cat", follow_up.ls_task_id, "tie")  # A-B-tie: still split, but at the cap of 3
    annotations_reconcile(project=project)

    round_ = start(project=project, strategy="split_votes", batch_size=4, buffer_size=0, seed=3)

    assert split.id not in set(round_.selections.values_list("item_id", flat=True))
    assert QueueFollowUp.objects.filter(project=project).count() == 1
    assert round_.model_version not in fake_gateway.tasks[follow_up.ls_task_id].scores  # no longer served


def test_other_strategies_give_no_follow_ups(fake_gateway, start) -> None:  # type: ignore[no-untyped-def]
    project, split, _, _ = _split_and_agreed(fake_gateway, start)
    round_ = start(project=project, strategy="random", batch_size=4, buffer_size=0, seed=2)
    assert not QueueFollowUp.objects.filter(project=project).exists()
    assert split.id not in set(round_.selections.values_list("item_id", flat=True))


def test_the_cap_and_the_gold_share_are_checked_like_the_other_round_settings(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference", annotators_per_item=2)
    with pytest.raises(ValidationFailed, match=r"max_annotators_per_item must be an integer in \[1, 100\]"):
        round_config_update(project=project, max_annotators_per_item=0)
    with pytest.raises(ValidationFailed, match=r"gold_share must be a number in \[0, 1\]"):
        round_start(project=project, trigger="api", strategy="split_votes", parameters={"gold_share": 2})
    assert round_config_update(project=project, max_annotators_per_item=7).max_annotators_per_item == 7


def test_the_command_takes_the_cap_and_the_gold_share(
    fake_gateway, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import CommandError, call_command

    project = factories.project("preference", annotators_per_item=2)
    items_import_records(project=project, records=preference_records(6))
    with pytest.raises(CommandError, match=r"max_annotators_per_item must be an integer in \[1, 100\]"):
        call_command(
            "start_round", project.name, "--strategy", "split_votes", "--max-annotators-per-item", "0"
        )
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "start_round",
            project.name,
            "--strategy",
            "split_votes",
            "--max-annotators-per-item",
            "4",
            "--gold-share",
            "0.5",
        )
    round_ = project.rounds.get()
    assert round_.status == "done", round_.error
    assert (round_.parameters["max_annotators_per_item"], round_.parameters["gold_share"]) == (4, 0.5)
