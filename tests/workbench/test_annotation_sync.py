import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from workbench.accounts.models import Account, Role
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.services import (
    annotations_reconcile,
    webhook_event_process,
    webhook_event_receive,
)
from workbench.projects import kinds
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push

pytestmark = pytest.mark.django_db


def event_payload(
    action: str,
    item: Item,
    *,
    annotation_id: int,
    label: Any,
    user_id: int = 7,
    updated_at: str = "2026-11-01T10:00:00.000000Z",
) -> dict[str, Any]:
    interface = kinds.interface(item.project.kind)
    return {
        "action": action,
        "annotation": {
            "id": annotation_id,
            "task": item.ls_task_id,
            "completed_by": user_id,
            "result": interface.result_for(label),
            "lead_time": 4.2,
            "was_cancelled": False,
            "created_at": "2026-11-01T10:00:00.000000Z",
            "updated_at": updated_at,
        },
        "task": {"id": item.ls_task_id, "data": {**item.data, "item_id": item.id}},
        "project": {"id": item.project.ls_project_id, "token": "project-secret-token"},
    }


def deliver(payload: dict[str, Any]) -> WebhookEvent:
    event = webhook_event_receive(payload=payload)
    webhook_event_process(event_id=event.id)
    event.refresh_from_db()
    return event


@pytest.fixture
def pushed_item(fake_gateway) -> Item:  # type: ignore[no-untyped-def]
    project = factories.project()
    factories.toxicity_items(project, 1)
    items_push(project=project)
    return Item.objects.get(project=project)


def test_a_webhook_creates_the_annotation_with_label_annotator_and_lead_time(pushed_item: Item) -> None:
    annotator = factories.user(Role.ANNOTATOR)
    Account.objects.filter(user=annotator).update(ls_user_id=7)
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic"))
    (annotation,) = Annotation.objects.all()
    assert (annotation.item, annotation.label, annotation.annotator, annotation.lead_time) == (
        pushed_item,
        "toxic",
        annotator,
        4.2,
    )
    assert annotation.source == "webhook"
    assert event.processed_at is not None and event.error == ""


def test_the_project_token_is_never_stored(pushed_item: Item) -> None:
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic"))
    assert event.payload["project"]["token"] == "REDACTED"
    assert "project-secret-token" not in str(WebhookEvent.objects.values_list("payload", flat=True)[0])


def test_the_same_event_twice_leaves_one_annotation(pushed_item: Item) -> None:
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic")
    event = deliver(payload)
    webhook_event_process(event_id=event.id)  # a Celery redelivery of the same event
    deliver(copy.deepcopy(payload))  # Label Studio sending it again
    assert Annotation.objects.count() == 1


def test_an_update_changes_the_label_but_an_older_update_arriving_late_does_not(pushed_item: Item) -> None:
    deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic"))
    deliver(
        event_payload(
            "ANNOTATION_UPDATED",
            pushed_item,
            annotation_id=11,
            label="non-toxic",
            updated_at="2026-11-01T12:00:00.000000Z",
        )
    )
    deliver(
        event_payload(
            "ANNOTATION_UPDATED",
            pushed_item,
            annotation_id=11,
            label="toxic",
            updated_at="2026-11-01T11:00:00.000000Z",
        )
    )
    assert Annotation.objects.get().label == "non-toxic"


def test_a_deletion_removes_the_annotation(pushed_item: Item) -> None:
    deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic"))
    deliver(
        {
            "action": "ANNOTATIONS_DELETED",
            "annotations": [{"id": 11}],
            "project": {"id": pushed_item.project.ls_project_id},
        }
    )
    assert Annotation.objects.count() == 0


def test_an_event_that_cannot_be_understood_is_recorded_not_retried(pushed_item: Item) -> None:
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic")
    payload["annotation"]["result"][0]["value"]["choices"] = ["spam"]
    event = deliver(payload)
    assert "spam" in event.error
    assert Annotation.objects.count() == 0


def test_an_event_for_an_unknown_project_is_recorded_as_an_error(pushed_item: Item) -> None:
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=11, label="toxic")
    payload["project"]["id"] = 99999
    assert "99999" in deliver(payload).error


def test_reconciliation_brings_in_missed_annotations_and_drops_deleted_ones(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference", annotators_per_item=2)
    pairs = [{"prompt": f"p{i}", "response_a": "a", "response_b": "b", "label": "A"} for i in range(3)]
    items_import_records(project=project, records=pairs)
    items_push(project=project)
    alice = fake_gateway.create_user(email="alice@x.test", password="pw-alice", first_name="", last_name="")
    token = fake_gateway.user_token(email="alice@x.test", password="pw-alice")
    interface = kinds.interface("preference")
    submitted = []
    while (task := fake_gateway.next_task(project_id=project.ls_project_id, user_token=token)) is not None:
        # Alice answers "B" about the item's own responses, through the sides the task shows.
        result = interface.result_for("B", sides=task.data["sides"])
        submitted.append(
            fake_gateway.submit_annotation(task_id=task.id, result=result, lead_time=3.0, user_token=token)
        )
    report = annotations_reconcile(project=project)
    assert (report.seen, report.created, report.deleted) == (3, 3, 0)
    assert sorted(Annotation.objects.values_list("label", flat=True)) == ["B", "B", "B"]
    assert set(Annotation.objects.values_list("ls_user_id", flat=True)) == {alice.id}

    fake_gateway.delete_annotation(annotation_id=submitted[0].id)
    fake_gateway.update_annotation(
        annotation_id=submitted[1].id, result=kinds.interface("preference").result_for_choice("tie")
    )
    report = annotations_reconcile(project=project)
    assert (report.seen, report.created, report.updated, report.deleted) == (2, 0, 1, 1)
    assert sorted(Annotation.objects.values_list("label", flat=True)) == ["B", "tie"]
    assert set(Annotation.objects.values_list("source", flat=True)) == {"reconcile"}


CAPTURED = Path(__file__).resolve().parents[1] / "data" / "ls_webhooks"


def captured(action: str, item: Item) -> dict[str, Any]:
    """A payload Label Studio 1.23.2 really sent, re-pointed at this test's project and item."""
    payload = json.loads((CAPTURED / f"{action}.json").read_text())
    payload["project"]["id"] = item.project.ls_project_id
    payload["project"]["token"] = "project-secret-token"
    payload["project"]["task_data_password"] = "task-data-secret"
    if "task" in payload:
        payload["task"]["id"] = payload["annotation"]["task"] = item.ls_task_id
        payload["task"]["data"]["item_id"] = item.id
    return payload


def test_real_label_studio_payloads_create_and_delete_the_annotation(pushed_item: Item) -> None:
    created = captured("ANNOTATION_CREATED", pushed_item)
    event = deliver(created)
    annotation = Annotation.objects.get()
    assert (annotation.ls_annotation_id, annotation.label, annotation.ls_user_id) == (
        created["annotation"]["id"],
        "toxic",
        created["annotation"]["completed_by"],
    )
    assert annotation.lead_time == created["annotation"]["lead_time"]
    stored = json.dumps(event.payload)
    assert "project-secret-token" not in stored and "task-data-secret" not in stored

    deleted = captured("ANNOTATIONS_DELETED", pushed_item)
    deleted["annotations"] = [{"id": annotation.ls_annotation_id}]
    deliver(deleted)
    assert Annotation.objects.count() == 0
