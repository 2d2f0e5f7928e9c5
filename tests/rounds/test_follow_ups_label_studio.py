"""More annotators than ``annotators_per_item`` end to end through the real Label Studio: two
annotators split on a pair, the next ``split_votes`` round gives it a follow-up task in Label
Studio that the real queue serves first, a third annotator answers it on the shown sides, and the
item's counted votes become 3 (mapped back to the item's own responses)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.test_preference_sides_label_studio import pairs
from workbench import votes
from workbench.accounts.services import simulated_annotator_password
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import SimulatedAnnotator, ensure_simulated_accounts
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records, project_create
from workbench.rounds.models import QueueFollowUp
from workbench.rounds.services import round_config_update, round_start

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]

PREFERENCE = kinds.interface("preference")


def annotator() -> SimulatedAnnotator:
    return SimulatedAnnotator(f"follow-up-{uuid.uuid4().hex[:8]}@workbench.local", 0.0)


def answer_queue(
    gateway: Gateway, project: Project, who: SimulatedAnnotator, label_of
) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Take every task the real queue serves this annotator, answering ``label_of(item)`` (a
    stored label) through the task's shown sides; (task id, item id) in serving order."""
    token = gateway.user_token(email=who.email, password=simulated_annotator_password(who.email))
    served = []
    while (task := gateway.next_task(project_id=project.ls_id(), user_token=token)) is not None:
        item = Item.objects.get(id=task.data["item_id"])
        result = PREFERENCE.result_for(label_of(item), sides=task.data["sides"])
        gateway.submit_annotation(task_id=task.id, result=result, lead_time=1.0, user_token=token)
        served.append((task.id, item.id))
    return served


def counted(project: Project, item: Item) -> list[str]:
    answers = votes.counted_answers(project=project, spec=kinds.spec_of(project.kind), item_ids=[item.id])
    return sorted(str(a.label) for a in answers.get(item.id, []))


def test_a_split_pair_gets_a_follow_up_task_and_a_third_vote(
    real_gateway: Gateway, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    project = project_create(
        name=f"follow-ups e2e {uuid.uuid4().hex[:8]}", kind="preference", annotators_per_item=2
    )
    try:
        items_import_records(project=project, records=pairs(6))
        round_config_update(project=project, validation_percent=0)  # every pair may be queued
        ann, bob, cat = annotator(), annotator(), annotator()
        ensure_simulated_accounts(project, [ann, bob, cat])
        first = round_start(
            project=project, trigger="command", strategy="split_votes", batch_size=6, buffer_size=0, seed=1
        )
        first.refresh_from_db()
        assert first.status == "done", first.error
        assert first.pushed_count == 6
        split = Item.objects.get(project=project, external_id="pair-0")  # gold A

        assert len(answer_queue(real_gateway, project, ann, lambda item: item.gold)) == 6
        contrary = {"A": "B", "B": "A"}
        assert (
            len(
                answer_queue(real_gateway, project, bob, lambda i: contrary[i.gold] if i == split else i.gold)
            )
            == 6
        )
        annotations_reconcile(project=project)
        assert counted(project, split) == ["A", "B"]

        second = round_start(
            project=project, trigger="command", strategy="split_votes", batch_size=6, buffer_size=0, seed=2
        )
        second.refresh_from_db()
        assert second.status == "done", second.error
        (follow_up,) = QueueFollowUp.objects.filter(project=project)
        assert follow_up.item_id == split.id and second.parameters["follow_ups"] == 1
        assert list(second.selections.values_list("item_id", flat=True)) == [split.id]  # the rest agree 2-0

        served = answer_queue(real_gateway, project, cat, lambda item: "A")
        assert served == [(follow_up.ls_task_id, split.id)]  # Label Studio serves only the follow-up
        annotations_reconcile(project=project)
        assert counted(project, split) == ["A", "A", "B"]
        assert Item.objects.get(id=split.id).ls_task_id == split.ls_task_id  # its own task is kept
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
