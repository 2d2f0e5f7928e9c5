"""Annotation sync with the in-memory Label Studio (FakeGateway): webhooks are notifications,
the workbench stores what Label Studio holds; reconciliation repairs rows and task ids."""

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tests.fakes import FakeGateway
from workbench.accounts.models import Account, Role
from workbench.annotations import tasks
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.selectors import webhook_event_counts
from workbench.annotations.services import (
    annotations_reconcile,
    webhook_event_process,
    webhook_event_receive,
    webhook_events_sweep,
)
from workbench.labelstudio.types import LabelStudioError, LsAnnotation
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
    """A webhook body in Label Studio's shape. Its content is whatever the sender claims; the
    workbench only takes the annotation id from it."""
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


def label_in_label_studio(
    fake: FakeGateway, item: Item, label: Any, *, email: str = "ann@x.test"
) -> LsAnnotation:
    """An annotator submits in (the fake) Label Studio; returns Label Studio's annotation."""
    if email not in fake.users:
        fake.create_user(email=email, password="pw", first_name="", last_name="")
    token = fake.user_token(email=email, password="pw")
    result = kinds.interface(item.project.kind).result_for(label)
    return fake.submit_annotation(task_id=item.ls_task_id, result=result, lead_time=4.2, user_token=token)


@pytest.fixture
def pushed_item(fake_gateway) -> Item:  # type: ignore[no-untyped-def]
    project = factories.project()
    factories.toxicity_items(project, 1)
    items_push(project=project)
    return Item.objects.get(project=project)


def test_a_webhook_stores_the_annotation_as_label_studio_holds_it(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    annotator = factories.user(Role.ANNOTATOR)
    Account.objects.filter(user=annotator).update(ls_user_id=ls.completed_by)
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic"))
    (annotation,) = Annotation.objects.all()
    assert (annotation.item, annotation.label, annotation.annotator, annotation.lead_time) == (
        pushed_item,
        "toxic",
        annotator,
        4.2,
    )
    assert annotation.source == "webhook"
    assert event.processed_at is not None and event.error == "" and event.attempts == 1


def test_nothing_a_forged_payload_claims_is_stored(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    """The secret is readable by every annotator; a payload's content is never taken."""
    ls = label_in_label_studio(fake_gateway, pushed_item, "non-toxic")
    other = factories.project()
    factories.toxicity_items(other, 1)
    forged = event_payload(
        "ANNOTATION_UPDATED",
        pushed_item,
        annotation_id=ls.id,
        label="toxic",
        user_id=ls.completed_by + 100,
        updated_at="2099-01-01T00:00:00Z",
    )
    forged["annotation"]["task"] = forged["task"]["id"] = 424242
    forged["annotation"]["lead_time"] = 999.0
    deliver(forged)
    annotation = Annotation.objects.get()
    assert (annotation.label, annotation.ls_user_id, annotation.lead_time) == (
        "non-toxic",
        ls.completed_by,
        4.2,
    )
    assert annotation.ls_updated_at == ls.updated_at
    pushed_item.refresh_from_db()
    assert pushed_item.ls_task_id == ls.task_id


def test_a_forged_event_for_an_annotation_label_studio_does_not_have_stores_nothing(
    pushed_item: Item,
) -> None:
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=9999, label="toxic"))
    assert Annotation.objects.count() == 0
    assert event.processed_at is not None


def test_the_project_token_is_never_stored(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic"))
    assert event.payload["project"]["token"] == "REDACTED"
    assert "project-secret-token" not in str(WebhookEvent.objects.values_list("payload", flat=True)[0])


def test_the_same_event_twice_leaves_one_annotation(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic")
    event = deliver(payload)
    webhook_event_process(event_id=event.id)  # a Celery redelivery of the same event
    deliver(copy.deepcopy(payload))  # Label Studio sending it again
    assert Annotation.objects.count() == 1


def test_an_update_stores_label_studios_newest_result_whatever_order_events_arrive_in(
    fake_gateway,
    pushed_item: Item,  # type: ignore[no-untyped-def]
) -> None:
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    created = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic")
    fake_gateway.update_annotation(
        annotation_id=ls.id, result=kinds.interface("toxicity_binary").result_for("non-toxic")
    )
    deliver(event_payload("ANNOTATION_UPDATED", pushed_item, annotation_id=ls.id, label="non-toxic"))
    deliver(created)  # the creation's delivery arriving last
    assert Annotation.objects.get().label == "non-toxic"


def test_a_deletion_is_applied_only_once_label_studio_confirms_it(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic"))
    deletion = {
        "action": "ANNOTATIONS_DELETED",
        "annotations": [{"id": ls.id}],
        "project": {"id": pushed_item.project.ls_project_id},
    }
    deliver(deletion)  # forged: Label Studio still has it
    assert Annotation.objects.count() == 1
    fake_gateway.delete_annotation(annotation_id=ls.id)
    deliver(copy.deepcopy(deletion))
    assert Annotation.objects.count() == 0


def test_an_annotation_the_project_cannot_read_is_recorded_as_failed(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    fake_gateway.annotations[ls.id] = LsAnnotation(
        **{
            **ls.__dict__,
            "result": [{"type": "choices", "value": {"choices": ["spam"]}, "from_name": "toxicity"}],
        }
    )
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic"))
    assert "spam" in event.error and event.processed_at is not None
    assert Annotation.objects.count() == 0


def test_an_annotation_of_a_label_studio_project_nobody_here_uses_is_recorded_as_failed(
    fake_gateway,
    pushed_item: Item,  # type: ignore[no-untyped-def]
) -> None:
    stray = fake_gateway.create_project(title="stray", label_config="", maximum_annotations=1)
    (task_id,) = fake_gateway.import_tasks(project_id=stray, tasks=[{"text": "x", "item_id": pushed_item.id}])
    fake_gateway.create_user(email="s@x.test", password="pw", first_name="", last_name="")
    token = fake_gateway.user_token(email="s@x.test", password="pw")
    ls = fake_gateway.submit_annotation(task_id=task_id, result=[], lead_time=1.0, user_token=token)
    event = deliver(event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic"))
    assert str(stray) in event.error and Annotation.objects.count() == 0


@pytest.mark.parametrize(
    ("annotation_id", "expected"),
    [
        (-1, "1..2147483647"),
        (0, "1..2147483647"),
        (2**70, "1..2147483647"),
        ("12", "integer"),
        (None, "integer"),
    ],
)
def test_an_event_with_a_bad_id_ends_failed_with_the_reason(
    pushed_item: Item, annotation_id: object, expected: str
) -> None:
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    payload["annotation"]["id"] = annotation_id
    event = deliver(payload)
    assert event.processed_at is not None and "annotation.id" in event.error and expected in event.error


def test_an_event_with_an_unknown_action_ends_failed(pushed_item: Item) -> None:
    payload = event_payload("PROJECT_DELETED", pushed_item, annotation_id=1, label="toxic")
    assert "PROJECT_DELETED" in deliver(payload).error


# --- retries: only what can succeed ----------------------------------------------------------


class Refusing(FakeGateway):
    """Label Studio answering every annotation read with one error; counts the reads."""

    def __init__(self, error: LabelStudioError) -> None:
        super().__init__()
        self.error = error
        self.reads = 0

    def get_annotation(self, *, annotation_id: int) -> LsAnnotation | None:
        self.reads += 1
        raise self.error

    def iter_tasks(self, *, project_id: int):  # type: ignore[no-untyped-def]
        self.reads += 1
        raise self.error

    def change_mark(self, *, project_id: int):  # type: ignore[no-untyped-def]
        self.reads += 1  # reconciliation's first read
        raise self.error

    def iter_task_annotations(self, *, project_id: int, task_ids):  # type: ignore[no-untyped-def]
        raise self.error  # webhook batching's shortcut: each annotation is then read on its own


def use(monkeypatch: pytest.MonkeyPatch, gateway: FakeGateway) -> None:
    from workbench.labelstudio import connection

    monkeypatch.setattr(connection, "get_gateway", lambda: gateway)


def test_a_401_from_label_studio_is_not_retried(monkeypatch: pytest.MonkeyPatch, pushed_item: Item) -> None:
    refusing = Refusing(LabelStudioError("Invalid token.", permanent=True, status=401))
    use(monkeypatch, refusing)
    event = webhook_event_receive(
        payload=event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    )
    tasks.process_webhook_event.apply((event.id,))
    event.refresh_from_db()
    assert refusing.reads == 1
    assert event.processed_at is not None and "Invalid token" in event.error

    with pytest.raises(Exception, match="Invalid token"):
        tasks.reconcile_project.apply((pushed_item.project_id,), throw=True)
    assert refusing.reads == 2


def test_a_timeout_is_retried_with_a_bounded_count_then_recorded(
    monkeypatch: pytest.MonkeyPatch,
    settings,
    pushed_item: Item,  # type: ignore[no-untyped-def]
) -> None:
    timing_out = Refusing(LabelStudioError("get annotation: ReadTimeout('timed out')", permanent=False))
    use(monkeypatch, timing_out)
    event = webhook_event_receive(
        payload=event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    )
    tasks.process_webhook_event.apply((event.id,))
    event.refresh_from_db()
    assert timing_out.reads == settings.WEBHOOK_EVENT_MAX_ATTEMPTS
    assert event.processed_at is not None and "gave up after" in event.error and "timed out" in event.error


def test_the_retry_policy_sorts_errors_into_transient_and_permanent() -> None:
    from django.db import OperationalError

    from workbench.errors import UpstreamUnavailable, upstream_error
    from workbench.retries import backoff_seconds, is_transient

    assert is_transient(LabelStudioError("timeout", permanent=False))
    assert is_transient(LabelStudioError("busy", permanent=False, status=503))
    assert is_transient(OperationalError("connection lost"))
    assert not is_transient(LabelStudioError("no", permanent=True, status=401))
    assert not is_transient(upstream_error(LabelStudioError("no", permanent=True, status=404), "read"))
    assert is_transient(upstream_error(LabelStudioError("slow", permanent=False, status=429), "read"))
    assert not is_transient(ValueError("bad"))
    assert isinstance(upstream_error(LabelStudioError("x", permanent=True), "y"), UpstreamUnavailable)
    assert [backoff_seconds(n) for n in range(4)] == [2, 4, 8, 16] and backoff_seconds(30) == 600


# --- the sweep -------------------------------------------------------------------------------


def test_the_sweep_requeues_unprocessed_events_and_gives_up_on_exhausted_ones(
    settings,
    pushed_item: Item,  # type: ignore[no-untyped-def]
) -> None:
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    fresh, lost, exhausted, done = (webhook_event_receive(payload=payload) for _ in range(4))
    old = timezone.now() - timedelta(hours=1)
    WebhookEvent.objects.filter(id__in=[lost.id, exhausted.id, done.id]).update(received_at=old)
    WebhookEvent.objects.filter(id=exhausted.id).update(attempts=settings.WEBHOOK_EVENT_MAX_ATTEMPTS)
    WebhookEvent.objects.filter(id=done.id).update(processed_at=timezone.now())
    assert webhook_event_counts() == {"unprocessed": 3, "failed": 0, "total": 4}

    report = webhook_events_sweep(older_than=timedelta(minutes=5))

    assert (report.requeue, report.failed) == ([lost.id], 1)
    exhausted.refresh_from_db()
    assert exhausted.processed_at is not None and "gave up after" in exhausted.error
    assert webhook_event_counts() == {"unprocessed": 2, "failed": 1, "total": 4}


def test_the_sweep_task_processes_what_it_requeues(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    event = webhook_event_receive(
        payload=event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=ls.id, label="toxic")
    )
    assert tasks.sweep_webhook_events.apply((0,)).get() == 1  # eager: queued and run here
    event.refresh_from_db()
    assert event.processed_at is not None and Annotation.objects.get().ls_annotation_id == ls.id


# --- reconciliation --------------------------------------------------------------------------


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


def test_reconciliation_repairs_rows_forged_before_the_fix_whatever_their_timestamps(
    fake_gateway,  # type: ignore[no-untyped-def]
) -> None:
    project = factories.project()
    factories.toxicity_items(project, 3)
    items_push(project=project, limit=2)
    first, second, unpushed = Item.objects.filter(project=project).order_by("id")
    ls = label_in_label_studio(fake_gateway, first, "non-toxic")
    # What the old code stored from forged payloads: a label "from 2099", another annotator, and
    # an unpushed item bound to a task id that is not its own (so push skipped it).
    Annotation.objects.create(
        project=project,
        item=first,
        ls_annotation_id=ls.id,
        ls_user_id=ls.completed_by + 50,
        label="toxic",
        result=kinds.interface(project.kind).result_for("toxic"),
        ls_updated_at=timezone.now() + timedelta(days=365 * 70),
        source="webhook",
        synced_at=timezone.now(),
    )
    Item.objects.filter(id=unpushed.id).update(ls_task_id=second.ls_task_id + 1000, pushed_at=timezone.now())

    report = annotations_reconcile(project=project)

    annotation = Annotation.objects.get()
    assert (annotation.label, annotation.ls_user_id, annotation.ls_updated_at) == (
        "non-toxic",
        ls.completed_by,
        ls.updated_at,
    )
    assert (report.updated, report.task_ids_repaired) == (1, 1)
    unpushed.refresh_from_db()
    assert unpushed.ls_task_id is None
    assert items_push(project=project) == 1
    assert annotations_reconcile(project=project).task_ids_repaired == 0


CAPTURED = Path(__file__).resolve().parents[1] / "data" / "ls_webhooks"


def captured(action: str, item: Item, annotation_id: int) -> dict[str, Any]:
    """A payload Label Studio 1.23.2 really sent, re-pointed at this test's project and item."""
    payload = json.loads((CAPTURED / f"{action}.json").read_text())
    payload["project"]["id"] = item.project.ls_project_id
    payload["project"]["token"] = "project-secret-token"
    payload["project"]["task_data_password"] = "task-data-secret"
    if "task" in payload:
        payload["task"]["id"] = payload["annotation"]["task"] = item.ls_task_id
        payload["task"]["data"]["item_id"] = item.id
        payload["annotation"]["id"] = annotation_id
    else:
        payload["annotations"] = [{"id": annotation_id}]
    return payload


def test_real_label_studio_payloads_create_and_delete_the_annotation(fake_gateway, pushed_item: Item) -> None:  # type: ignore[no-untyped-def]
    ls = label_in_label_studio(fake_gateway, pushed_item, "toxic")
    event = deliver(captured("ANNOTATION_CREATED", pushed_item, ls.id))
    annotation = Annotation.objects.get()
    assert (annotation.ls_annotation_id, annotation.label, annotation.ls_user_id) == (
        ls.id,
        "toxic",
        ls.completed_by,
    )
    stored = json.dumps(event.payload)
    assert "project-secret-token" not in stored and "task-data-secret" not in stored

    fake_gateway.delete_annotation(annotation_id=ls.id)
    deliver(captured("ANNOTATIONS_DELETED", pushed_item, ls.id))
    assert Annotation.objects.count() == 0


# --- the endpoint and the settings ----------------------------------------------------------


def test_settings_reach_celery_through_the_celery_namespace() -> None:
    from workbench.celery import app as celery_app

    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.beat_schedule["sweep-webhook-events"]["task"] == tasks.sweep_webhook_events.name


@pytest.mark.parametrize("bad_id", [-1, 2**70, "1; drop table", None])
def test_the_webhook_endpoint_answers_200_for_any_id_and_the_event_ends_failed(
    pushed_item: Item,
    settings,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
    bad_id: object,
) -> None:
    from rest_framework.test import APIClient

    from workbench.labelstudio.payloads import WEBHOOK_SECRET_HEADER

    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    payload["annotation"]["id"] = payload["project"]["id"] = bad_id
    headers = {WEBHOOK_SECRET_HEADER: settings.WEBHOOK_SECRET}
    with django_capture_on_commit_callbacks(execute=True):  # eager: processed once committed
        response = APIClient().post("/webhooks/label-studio/", payload, format="json", headers=headers)
    assert response.status_code == 200
    event = WebhookEvent.objects.get(id=response.json()["received"])
    assert event.processed_at is not None and "annotation.id" in event.error
    assert event.ls_project_id is None


def test_the_admin_shows_how_many_events_are_unprocessed_and_failed(pushed_item: Item) -> None:
    from tests.factories import user

    admin_user = user(Role.ADMIN)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    payload = event_payload("ANNOTATION_CREATED", pushed_item, annotation_id=1, label="toxic")
    webhook_event_receive(payload=payload)
    failed = webhook_event_receive(payload=payload)
    WebhookEvent.objects.filter(id=failed.id).update(processed_at=timezone.now(), error="ValueError: x")
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/annotations/webhookevent/").content.decode()
    assert "1 unprocessed, 1 failed" in page
    listed = client.get("/admin/annotations/webhookevent/?state=failed").content.decode()
    assert "ValueError: x" in listed
