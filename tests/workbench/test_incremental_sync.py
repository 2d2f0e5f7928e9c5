"""Batched ingest and incremental reconciliation, with the in-memory Label Studio (FakeGateway):
a pass reads only the tasks changed since the project's high-water mark, finds deletions, re-reads
the overlap without changing anything, and falls back to a full pass for what no task shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.fakes import FakeGateway
from tests.workbench.test_annotation_sync import event_payload, label_in_label_studio
from workbench.annotations import ingest
from workbench.annotations.models import Annotation, ReconcileState, WebhookEvent
from workbench.annotations.services import annotations_reconcile, webhook_event_process, webhook_event_receive
from workbench.guidelines.models import GuidelineVersion
from workbench.labelstudio.types import LsAnnotation
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import items_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_overlap(settings) -> None:  # type: ignore[no-untyped-def]
    settings.RECONCILE_OVERLAP_SECONDS = 0


def labeled_project(fake: FakeGateway, n: int = 5, labeled: int = 4) -> tuple[Project, list[Item]]:
    project = factories.project()
    factories.toxicity_items(project, n)
    items_push(project=project)
    items = list(Item.objects.filter(project=project).order_by("id"))
    for item in items[:labeled]:
        label_in_label_studio(fake, item, "toxic")
    return project, items


def rows(project: Project) -> dict[int, tuple[Any, ...]]:
    return {
        a.ls_annotation_id: (a.item_id, a.label, a.ls_updated_at, a.ls_task_id)
        for a in Annotation.objects.filter(project=project)
    }


# --- the high-water mark -------------------------------------------------------------------


def test_the_first_pass_is_full_and_later_ones_read_only_changed_tasks(
    fake_gateway: FakeGateway, no_overlap: None
) -> None:
    project, items = labeled_project(fake_gateway)
    first = annotations_reconcile(project=project)
    assert (first.full_pass, first.created, first.tasks_read, first.seen) == (True, 4, 5, 4)
    assert ReconcileState.objects.get(project=project).high_water is not None

    quiet = annotations_reconcile(project=project)
    assert (quiet.full_pass, quiet.tasks_read, quiet.created, quiet.deleted) == (False, 0, 0, 0)

    held = {a.item_id: a.ls_annotation_id for a in Annotation.objects.filter(project=project)}
    fake_gateway.update_annotation(
        annotation_id=held[items[0].id], result=kinds.interface(project.kind).result_for("non-toxic")
    )
    fake_gateway.delete_annotation(annotation_id=held[items[1].id])
    label_in_label_studio(fake_gateway, items[4], "non-toxic")
    reads_before = fake_gateway.annotation_reads

    report = annotations_reconcile(project=project)

    assert (report.full_pass, report.tasks_read) == (False, 3)
    assert (report.created, report.updated, report.deleted, report.seen) == (1, 1, 1, 4)
    # Only the changed tasks that still have annotations were read: the updated one, the new one.
    assert fake_gateway.annotation_reads - reads_before == 2
    assert fake_gateway.full_exports == 0
    labels = dict(Annotation.objects.filter(project=project).values_list("item_id", "label"))
    assert labels == {
        items[0].id: "non-toxic",
        items[2].id: "toxic",
        items[3].id: "toxic",
        items[4].id: "non-toxic",
    }


def test_the_overlap_re_reads_recent_tasks_and_changes_nothing(fake_gateway: FakeGateway, settings) -> None:  # type: ignore[no-untyped-def]
    project, _ = labeled_project(fake_gateway)
    annotations_reconcile(project=project)
    before = rows(project)
    settings.RECONCILE_OVERLAP_SECONDS = 3600  # everything this test made is inside it

    again = annotations_reconcile(project=project)

    assert (again.full_pass, again.tasks_read) == (False, 5)
    assert (again.created, again.updated, again.unchanged, again.deleted) == (0, 0, 4, 0)
    assert rows(project) == before


def test_a_webhook_row_written_during_a_pass_is_not_deleted(
    fake_gateway: FakeGateway, no_overlap: None
) -> None:
    project, items = labeled_project(fake_gateway, labeled=1)
    annotations_reconcile(project=project)
    late = label_in_label_studio(fake_gateway, items[1], "toxic")
    # A webhook stores it after the pass read the task list but before the pass looks for stale rows.
    original = fake_gateway.iter_task_annotations

    def read_then_webhook(**kwargs: Any) -> Any:
        found = list(original(**kwargs))
        webhook_event_process(
            event_id=webhook_event_receive(
                payload=event_payload("ANNOTATION_CREATED", items[1], annotation_id=late.id, label="toxic")
            ).id
        )
        return iter([a for a in found if a.id != late.id])

    fake_gateway.iter_task_annotations = read_then_webhook  # type: ignore[method-assign]
    report = annotations_reconcile(project=project)
    assert report.deleted == 0
    assert Annotation.objects.filter(ls_annotation_id=late.id).exists()


# --- what no task shows: the full pass -----------------------------------------------------


def test_a_deleted_task_is_found_by_the_count_and_repaired_by_a_full_pass(
    fake_gateway: FakeGateway, no_overlap: None
) -> None:
    project, items = labeled_project(fake_gateway)
    annotations_reconcile(project=project)
    fake_gateway.delete_task(task_id=items[2].ls_task_id)  # touches no other task

    report = annotations_reconcile(project=project)

    assert (report.full_pass, report.deleted, report.task_ids_repaired) == (True, 1, 1)
    assert not Annotation.objects.filter(item=items[2]).exists()
    items[2].refresh_from_db()
    assert items[2].ls_task_id is None  # push sends it again
    assert annotations_reconcile(project=project).full_pass is False


def test_a_full_pass_runs_again_after_the_interval(fake_gateway: FakeGateway, settings) -> None:  # type: ignore[no-untyped-def]
    project, _ = labeled_project(fake_gateway)
    annotations_reconcile(project=project)
    assert annotations_reconcile(project=project).full_pass is False
    ReconcileState.objects.filter(project=project).update(
        full_pass_at=timezone.now() - timedelta(seconds=settings.RECONCILE_FULL_INTERVAL_SECONDS + 1)
    )
    assert annotations_reconcile(project=project).full_pass is True
    assert annotations_reconcile(project=project, full=True).full_pass is True


def test_tasks_on_no_item_do_not_force_full_passes(fake_gateway: FakeGateway, no_overlap: None) -> None:
    project, _ = labeled_project(fake_gateway)
    (stray,) = fake_gateway.import_tasks(
        project_id=project.ls_id(), tasks=[{"text": "made by hand in Label Studio"}]
    )
    fake_gateway.create_user(email="x@x.test", password="pw", first_name="", last_name="")
    token = fake_gateway.user_token(email="x@x.test", password="pw")
    result = kinds.interface(project.kind).result_for("toxic")
    fake_gateway.submit_annotation(task_id=stray, result=result, lead_time=1.0, user_token=token)

    first = annotations_reconcile(project=project)
    assert (first.full_pass, first.skipped, first.seen) == (True, 1, 5)
    assert ReconcileState.objects.get(project=project).unmatched == 1
    assert annotations_reconcile(project=project).full_pass is False


def test_a_push_whose_bookkeeping_was_lost_is_adopted_by_an_incremental_pass(
    fake_gateway: FakeGateway, no_overlap: None
) -> None:
    project, items = labeled_project(fake_gateway, n=3, labeled=0)
    annotations_reconcile(project=project)
    factories.toxicity_items(project, 4)  # one more item (the first three are duplicates)
    new = Item.objects.get(project=project, ls_task_id__isnull=True)
    items_push(project=project)
    task_id = Item.objects.get(id=new.id).ls_task_id
    Item.objects.filter(id=new.id).update(ls_task_id=None, pushed_at=None)  # the commit was lost

    report = annotations_reconcile(project=project)

    assert (report.full_pass, report.tasks_read, report.task_ids_repaired) == (False, 1, 1)
    assert Item.objects.get(id=new.id).ls_task_id == task_id


# --- batched ingest ------------------------------------------------------------------------


def ls_annotation(item: Item, annotation_id: int, label: str | None, **changes: Any) -> LsAnnotation:
    interface = kinds.interface(item.project.kind)
    made = timezone.now() - timedelta(hours=1)
    fields: dict[str, Any] = {
        "id": annotation_id,
        "task_id": item.ls_task_id,
        "completed_by": 7,
        "result": interface.result_for(label) if label else [],
        "lead_time": 2.0,
        "was_cancelled": label is None,
        "created_at": made,
        "updated_at": made,
        "task_data": {"text": "x", "item_id": item.id},
        "project_id": item.project.ls_project_id,
    }
    return LsAnnotation(**{**fields, **changes})


def test_a_batch_keeps_the_one_annotation_rules(fake_gateway: FakeGateway) -> None:
    project, items = labeled_project(fake_gateway, n=4, labeled=0)
    published = timezone.now() - timedelta(minutes=30)
    GuidelineVersion.objects.create(
        project=project, version=1, text="v1", published_at=published - timedelta(hours=2)
    )
    GuidelineVersion.objects.create(project=project, version=2, text="v2", published_at=published)
    Item.objects.filter(id=items[3].id).update(ls_task_id=None)  # bookkeeping lost: adopted below
    batch = [
        ls_annotation(
            items[0], 101, "toxic", task_data={"text": "x", "item_id": items[0].id, "guideline_version": 2}
        ),
        ls_annotation(items[1], 102, None),  # a skip
        ls_annotation(items[2], 103, "toxic", task_data={"text": "x", "item_id": 999_999}),  # no such item
        ls_annotation(items[0], 104, "toxic"),
        ls_annotation(items[0], 104, "non-toxic"),  # the same id twice: the last copy wins
        ls_annotation(items[3], 105, "toxic", task_id=items[3].ls_task_id),
    ]

    counts = ingest.annotations_upsert(project=project, annotations=batch, source=Annotation.Source.RECONCILE)

    assert counts == {"created": 4, "unknown_item": 1}
    stored = {a.ls_annotation_id: a for a in Annotation.objects.filter(project=project)}
    assert sorted(stored) == [101, 102, 104, 105]
    # Made before v2 was published although its task carries v2: the version in force then.
    assert stored[101].guideline_version == 1
    assert (stored[102].label, stored[102].was_cancelled) == (None, True)
    assert stored[104].label == "non-toxic"
    assert Item.objects.get(id=items[3].id).ls_task_id == items[3].ls_task_id

    again = ingest.annotations_upsert(
        project=project,
        annotations=[*batch[:2], ls_annotation(items[0], 104, "toxic")],
        source=Annotation.Source.WEBHOOK,
    )
    assert again == {"unchanged": 2, "updated": 1, "unknown_item": 0} or again == {
        "unchanged": 2,
        "updated": 1,
    }


def test_a_batch_costs_the_same_queries_whatever_its_size(fake_gateway: FakeGateway) -> None:
    project, items = labeled_project(fake_gateway, n=60, labeled=0)

    def queries(n: int, first_id: int) -> int:
        batch = [ls_annotation(items[i], first_id + i, "toxic", completed_by=7 + i) for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            ingest.annotations_upsert(project=project, annotations=batch, source=Annotation.Source.RECONCILE)
        return len(captured)

    assert queries(50, 1000) == queries(5, 2000)


# --- webhook events taken together ---------------------------------------------------------


class CountingReads(FakeGateway):
    def __init__(self) -> None:
        super().__init__()
        self.one_by_one = 0

    def get_annotation(self, *, annotation_id: int) -> LsAnnotation | None:
        self.one_by_one += 1
        return super().get_annotation(annotation_id=annotation_id)


def test_a_backlog_of_events_is_applied_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.labelstudio import connection as ls_connection

    fake = CountingReads()
    monkeypatch.setattr(ls_connection, "get_gateway", lambda: fake)
    project, items = labeled_project(fake, n=12, labeled=11)
    held = sorted(fake.annotations.values(), key=lambda a: a.id)
    by_item = {a.task_id: a for a in held}
    events = [
        webhook_event_receive(
            payload=event_payload(
                "ANNOTATION_CREATED", item, annotation_id=by_item[item.ls_task_id].id, label="toxic"
            )
        )
        for item in items[:10]
    ]
    # A forged hint: the event names another task; its annotation, which no other event's task
    # holds, is then read on its own.
    forged = event_payload(
        "ANNOTATION_UPDATED", items[10], annotation_id=by_item[items[10].ls_task_id].id, label="toxic"
    )
    forged["annotation"]["task"] = items[11].ls_task_id
    forged_event = webhook_event_receive(payload=forged)

    webhook_event_process(event_id=events[0].id)

    assert Annotation.objects.filter(project=project).count() == 10
    assert fake.one_by_one == 0
    assert not WebhookEvent.objects.filter(id__in=[e.id for e in events], processed_at__isnull=True).exists()
    pending = WebhookEvent.objects.get(id=forged_event.id)
    assert pending.processed_at is None  # not taken: its annotation was not in the batch's read
    webhook_event_process(event_id=forged_event.id)
    assert fake.one_by_one == 1
    assert WebhookEvent.objects.get(id=forged_event.id).error == ""
    assert Annotation.objects.filter(project=project).count() == 11


def test_an_event_that_cannot_apply_is_left_to_fail_on_its_own(fake_gateway: FakeGateway) -> None:
    project, items = labeled_project(fake_gateway, n=2, labeled=1)
    good = next(iter(fake_gateway.annotations.values()))
    token = fake_gateway.user_token(email="ann@x.test", password="pw")
    bad_result = [
        {"from_name": "toxicity", "to_name": "text", "type": "choices", "value": {"choices": ["spam"]}}
    ]
    bad = fake_gateway.submit_annotation(
        task_id=items[1].ls_task_id, result=bad_result, lead_time=1.0, user_token=token
    )
    first = webhook_event_receive(
        payload=event_payload("ANNOTATION_CREATED", items[0], annotation_id=good.id, label="toxic")
    )
    second = webhook_event_receive(
        payload=event_payload("ANNOTATION_CREATED", items[1], annotation_id=bad.id, label="toxic")
    )

    webhook_event_process(event_id=first.id)
    assert WebhookEvent.objects.get(id=first.id).error == ""
    assert WebhookEvent.objects.get(id=second.id).processed_at is None
    webhook_event_process(event_id=second.id)
    assert "spam" in WebhookEvent.objects.get(id=second.id).error
    assert list(Annotation.objects.filter(project=project).values_list("ls_annotation_id", flat=True)) == [
        good.id
    ]
