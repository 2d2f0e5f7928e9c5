"""Benchmark: annotation ingest through reconciliation and webhook processing, on a Label Studio
project of N tasks (issue 14, target 3: >= 1,000 annotations/s; reconciliation incremental and
still finding deletions).

Set-up (not measured): N items in the bench database, and N Label Studio tasks each with one
annotation, created by one SDK import per 10,000 tasks of tasks *with* their annotations (the fast
way to make many annotations; the API makes them one per request); the items' task ids recorded.
Then, measured:

1. the first reconciliation (a full pass: every task listed, every annotation read and stored);
2. a few changes made in Label Studio through its API (3 updates, 2 new annotations, 1 deletion),
   then an incremental reconciliation, which must read only those tasks and find the deletion;
3. webhook processing of E ``ANNOTATION_CREATED`` events for annotations this workbench has lost
   (a backlog drained by one worker, events taken together) and of 100 events one at a time.

Each ingest figure is printed twice: end to end, and the workbench's own part (the time spent
waiting on Label Studio, measured around every gateway call, taken off).

    python -m workbench.labelstudio.server ensure --data-dir var/ls-bench-sync --port 8791
    .venv/bin/python bench/ingest.py                  # 100,000 tasks
    .venv/bin/python bench/ingest.py --tasks 10000 --events 2000
    python -m workbench.labelstudio.server stop --data-dir var/ls-bench-sync
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from typing import Any

from sync_common import add_arguments, load_average, setup, toxicity_items, toxicity_project

TARGET = 1000.0
SINGLE_EVENTS = 100


class Timed:
    """A gateway that adds up the seconds spent in Label Studio calls (iterators included)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
            return self._iterate(result) if isinstance(result, Iterator) else result

        return call

    def _iterate(self, iterator: Iterator[Any]) -> Iterator[Any]:
        while True:
            started = time.perf_counter()
            try:
                value = next(iterator)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - started
            yield value


def rate(label: str, count: int, seconds: float, waiting: float) -> float:
    own = max(seconds - waiting, 1e-9)
    print(
        f"{label}: {count:,} annotations in {seconds:.2f} s = {count / seconds:,.0f}/s end to end; "
        f"{waiting:.2f} s waiting on Label Studio, workbench side {count / own:,.0f}/s"
    )
    return count / own


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5000)
    add_arguments(parser)
    parser.add_argument(
        "--overlap", type=int, default=5, help="RECONCILE_OVERLAP_SECONDS for this run (default setting: 120)"
    )
    args = parser.parse_args()
    # The overlap re-reads tasks changed that long before the mark; the set-up's tasks are made
    # older than it (a pause), so that pass 2 shows what an incremental pass reads.
    os.environ["RECONCILE_OVERLAP_SECONDS"] = str(args.overlap)
    info = setup(args)

    from django.db import transaction
    from label_studio_sdk import LabelStudio

    from workbench.annotations.models import Annotation, WebhookEvent
    from workbench.annotations.services import (
        annotations_reconcile,
        webhook_event_process,
        webhook_event_receive,
    )
    from workbench.bulk import update_from_values
    from workbench.labelstudio import connection
    from workbench.projects import kinds
    from workbench.projects.models import Item
    from workbench.projects.services import task_data

    real = connection.get_gateway()
    timed = Timed(real)
    connection.get_gateway = lambda: timed  # type: ignore[assignment]
    sdk = LabelStudio(base_url=info.url, api_key=info.token, timeout=1200)
    interface = kinds.interface("toxicity_binary")
    n = args.tasks

    project = toxicity_project("bench ingest")
    ls_project = project.ls_id()
    real.set_webhook_active(webhook_id=project.ls_webhook_id, active=False)  # nothing to deliver to
    try:
        started = time.perf_counter()
        toxicity_items(project, n)
        items = list(Item.objects.filter(project=project).order_by("id"))
        for start in range(0, n, 10_000):
            batch = items[start : start + 10_000]
            payloads = [
                {
                    "data": task_data(item),
                    "annotations": [
                        {"result": interface.result_for(item.gold), "completed_by": 1, "lead_time": 2.5}
                    ],
                }
                for item in batch
            ]
            response = sdk.projects.import_tasks(id=ls_project, request=payloads, return_task_ids=True)  # type: ignore[arg-type]
            ids = list(response.task_ids or [])  # type: ignore[attr-defined]
            with transaction.atomic():
                update_from_values(
                    Item, fields=["ls_task_id"], rows=[(i.id, t) for i, t in zip(batch, ids, strict=True)]
                )
        print(f"set-up: {n:,} tasks with one annotation each in {time.perf_counter() - started:.1f} s")
        time.sleep(args.overlap + 1)

        print(f"load before: {load_average()}")
        timed.seconds = 0.0
        started = time.perf_counter()
        first = annotations_reconcile(project=project)
        seconds = time.perf_counter() - started
        assert first.full_pass and first.created == n, first
        full_rate = rate("1. first reconciliation (full pass)", first.created, seconds, timed.seconds)

        tasks = list(Item.objects.filter(project=project).order_by("id").values_list("ls_task_id", flat=True))
        held = dict(Annotation.objects.filter(project=project).values_list("ls_task_id", "ls_annotation_id"))
        for task_id in tasks[:3]:
            sdk.annotations.update(id=held[task_id], result=interface.result_for("non-toxic"))
        for task_id in tasks[3:5]:
            sdk.annotations.create(id=task_id, result=interface.result_for("toxic"), completed_by=1)
        deleted = held[tasks[5]]
        sdk.annotations.delete(id=deleted)
        timed.seconds = 0.0
        started = time.perf_counter()
        second = annotations_reconcile(project=project)
        seconds = time.perf_counter() - started
        found = not Annotation.objects.filter(project=project, ls_annotation_id=deleted).exists()
        print(f"   (overlap {args.overlap} s)")
        print(
            f"2. incremental reconciliation after 3 updates, 2 new, 1 deletion: {seconds:.2f} s "
            f"({timed.seconds:.2f} s waiting on Label Studio), {second.tasks_read} tasks read of {n:,}, "
            f"full pass: {second.full_pass}; created {second.created}, updated {second.updated}, "
            f"deleted {second.deleted}; the deletion {'found' if found else 'MISSED'}"
        )
        assert (second.created, second.updated, second.deleted, second.full_pass) == (2, 3, 1, False), second
        assert found

        # Webhooks for annotations this workbench lost: a backlog, then one event at a time.
        e = min(args.events, n - 10)
        lost = list(
            Annotation.objects.filter(project=project)
            .order_by("ls_task_id")
            .values_list("id", "ls_annotation_id", "ls_task_id")[10 : 10 + e + SINGLE_EVENTS]
        )
        Annotation.objects.filter(id__in=[pk for pk, _, _ in lost]).delete()

        def payload(annotation_id: int, task_id: int) -> dict[str, Any]:
            return {
                "action": "ANNOTATION_CREATED",
                "annotation": {"id": annotation_id, "task": task_id},
                "task": {"id": task_id},
                "project": {"id": ls_project},
            }

        events = [webhook_event_receive(payload=payload(a, t)).id for _, a, t in lost[:e]]
        timed.seconds = 0.0
        started = time.perf_counter()
        for event_id in events:
            webhook_event_process(event_id=event_id)
        seconds = time.perf_counter() - started
        assert not WebhookEvent.objects.filter(id__in=events, processed_at__isnull=True).exists()
        assert not WebhookEvent.objects.filter(id__in=events).exclude(error="").exists()
        webhook_rate = rate(f"3a. webhook backlog of {e:,} events", e, seconds, timed.seconds)
        timed.seconds = 0.0
        started = time.perf_counter()
        for _, a, t in lost[e:]:
            webhook_event_process(event_id=webhook_event_receive(payload=payload(a, t)).id)
        seconds = time.perf_counter() - started
        rate(f"3b. webhook events one at a time ({SINGLE_EVENTS})", SINGLE_EVENTS, seconds, timed.seconds)
        assert Annotation.objects.filter(project=project).count() == n + 1  # 2 created, 1 deleted
        print(
            f"target {TARGET:,.0f}/s (workbench side): reconciliation {full_rate:,.0f}/s "
            f"({'meets' if full_rate >= TARGET else 'misses'}), webhooks {webhook_rate:,.0f}/s "
            f"({'meets' if webhook_rate >= TARGET else 'misses'})"
        )
        print(f"load after: {load_average()}")
    finally:
        real.delete_project(project_id=ls_project)


if __name__ == "__main__":
    main()
