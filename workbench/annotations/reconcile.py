"""Reconciliation: make a project's annotations here equal to Label Studio's by content, reading
only the tasks that changed since the last pass.

Label Studio bumps a task's ``updated_at`` whenever an annotation of it is created, updated or
deleted (through the API, the labeling UI or the Data Manager's bulk "delete annotations"), and
when its data changes (``tasks/models.py``, ``data_manager/actions/basic.py``, 1.23.2). So a pass
asks for the tasks with ``updated_at`` after the project's high-water mark minus
``RECONCILE_OVERLAP_SECONDS`` (a light listing: id, data, updated_at, annotation counts; one
request per 1,000 changed tasks), reads the annotations of those that have any (the JSON export
restricted to their ids, 500 tasks per request), upserts them in batches and deletes the rows of
those tasks that Label Studio no longer has. The mark is Label Studio's own clock when the pass
began (the ``Date`` of its answer), so whatever changes during a pass is read again by the next
one; the overlap covers clock steps between Label Studio's workers and a change whose transaction
commits after a later one's. Reading
a task twice is harmless: every write is an upsert of what Label Studio says.

What no task's ``updated_at`` shows: a task deleted with its annotations, and a task whose data
stopped naming its item. Both are caught by a **full pass**, the same pass over every task plus
rows whose task is gone and every item's task id, which runs

* on the first reconciliation of a project, with ``full=True`` (``manage.py reconcile_annotations
  --full``), and every ``RECONCILE_FULL_INTERVAL_SECONDS`` (a day by default);
* at once when an incremental pass sees the sign of a silent deletion: this workbench holds more
  rows than Label Studio counts annotations in the project (``GET /api/projects/{id}/``, counted
  live by Label Studio), less those Label Studio holds on tasks that name no item here
  (``ReconcileState.unmatched``, from the last full pass);
* when a changed task no longer names the item bound to it.

A count that still matches after a deletion needs a creation nobody has read yet to hide it; that
creation bumps its task, so the next pass reads it and the counts then differ.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workbench.annotations.ingest import annotations_upsert, round_start_if_due
from workbench.annotations.models import Annotation, ReconcileState
from workbench.bulk import update_from_values
from workbench.errors import ValidationFailed, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import Gateway, LabelStudioError, LsTaskChange
from workbench.projects.models import Item, Project
from workbench.projects.services import is_follow_up

log = logging.getLogger(__name__)

TASK_CHUNK = 1000
# Every task of a project changed after this (a full pass lists them all).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReconcileReport:
    seen: int  # annotations Label Studio holds for the project
    created: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int  # annotations read on tasks that name none of the project's items
    task_ids_repaired: int = 0
    tasks_read: int = 0
    full_pass: bool = False


class _NeedsFullPass(Exception):
    """Something an incremental pass cannot decide from the tasks it read."""


def annotations_reconcile(*, project: Project, full: bool = False) -> ReconcileReport:
    """Make the project's annotations here equal to what Label Studio holds, reading the tasks
    changed since the last pass (every task on a full pass: ``full``, the first time, every
    ``RECONCILE_FULL_INTERVAL_SECONDS``, or when an incremental pass finds it must)."""
    if project.ls_project_id is None:
        raise ValidationFailed(f"Project {project.id} has no Label Studio project to reconcile with.")
    gateway = connection.get_gateway()
    ls_project_id = project.ls_id()
    state, _ = ReconcileState.objects.get_or_create(project=project)
    started = timezone.now()
    interval = timedelta(seconds=settings.RECONCILE_FULL_INTERVAL_SECONDS)
    full = (
        full
        or state.high_water is None
        or state.full_pass_at is None
        or state.full_pass_at < started - interval
    )
    counts: Counter[str] = Counter()
    try:
        mark = gateway.change_mark(project_id=ls_project_id)
        if not full and state.high_water is not None:
            since = state.high_water - timedelta(seconds=settings.RECONCILE_OVERLAP_SECONDS)
            try:
                counts.update(_pass(project, gateway, since=since, started=started))
            except _NeedsFullPass as why:
                log.warning("project %s: a full reconciliation pass is needed: %s", project.id, why)
                full = True
            else:
                held = Annotation.objects.filter(project=project).count()
                if held + state.unmatched > gateway.count_annotations(project_id=ls_project_id):
                    log.warning(
                        "project %s: more annotations here than in Label Studio: some went without "
                        "touching their task (a deleted task?); running a full pass",
                        project.id,
                    )
                    full = True
        if full:
            counts.update(_pass(project, gateway, since=None, started=started))
        seen = gateway.count_annotations(project_id=ls_project_id)
    except LabelStudioError as exc:
        raise upstream_error(exc, "Could not read annotations from Label Studio") from exc
    updates: dict[str, object] = {"high_water": mark if mark is not None else state.high_water}
    if full:
        updates.update(full_pass_at=timezone.now(), unmatched=counts["unknown_item"])
    ReconcileState.objects.filter(project=project).update(**updates)
    if counts["created"]:
        round_start_if_due(project)
    return ReconcileReport(
        seen=seen,
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        deleted=counts["deleted"],
        skipped=counts["unknown_item"],
        task_ids_repaired=counts["repaired"],
        tasks_read=counts["tasks"],
        full_pass=full,
    )


def _pass(project: Project, gateway: Gateway, *, since: datetime | None, started: datetime) -> Counter[str]:
    """One pass over the tasks changed after ``since`` (every task when None)."""
    counts: Counter[str] = Counter()
    listed: set[int] = set()
    tasks_of: dict[int, list[int]] = defaultdict(list)  # item id -> its tasks (full pass)
    changes = gateway.iter_changed_tasks(project_id=project.ls_id(), since=since or _EPOCH)
    for chunk in _chunks(changes, TASK_CHUNK):
        counts["tasks"] += len(chunk)
        if since is None:
            listed.update(task.id for task in chunk)
            for task in chunk:
                if (item_id := _own_item(task)) is not None:
                    tasks_of[item_id].append(task.id)
        else:
            counts["repaired"] += _repair_changed(project, chunk)
        annotated = [task.id for task in chunk if task.annotations]
        read = (
            list(gateway.iter_task_annotations(project_id=project.ls_id(), task_ids=annotated))
            if annotated
            else []
        )
        with transaction.atomic():
            counts.update(
                annotations_upsert(project=project, annotations=read, source=Annotation.Source.RECONCILE)
            )
            # Rows of these tasks that Label Studio no longer has. Not those written since the
            # pass began: a webhook may have stored one our read did not include.
            gone = Annotation.objects.filter(
                project=project, ls_task_id__in=[task.id for task in chunk], synced_at__lt=started
            ).exclude(ls_annotation_id__in=[a.id for a in read])
            counts["deleted"] += _delete(gone.values_list("id", flat=True))
    if since is None:
        # Rows of tasks Label Studio has no more (or rows stored before task ids were kept).
        older = Annotation.objects.filter(project=project, synced_at__lt=started).values_list(
            "id", "ls_task_id"
        )
        counts["deleted"] += _delete(
            pk for pk, task_id in older.iterator(chunk_size=10_000) if task_id not in listed
        )
        counts["repaired"] += _repair_all(project, tasks_of)
    return counts


def _repair_changed(project: Project, chunk: Sequence[LsTaskChange]) -> int:
    """Bind items without a task id to a changed task that names them (a push whose bookkeeping
    did not commit); a changed task that no longer names the item bound to it needs a full pass."""
    named = {task.id: _own_item(task) for task in chunk}
    bound = dict(
        Item.objects.filter(project=project, ls_task_id__in=list(named)).values_list("ls_task_id", "id")
    )
    for bound_task, bound_item in bound.items():
        if bound_task is not None and named[bound_task] != bound_item:
            raise _NeedsFullPass(f"task {bound_task} no longer names item {bound_item}")
    candidates: dict[int, list[int]] = defaultdict(list)
    for task_id, named_item in named.items():
        if named_item is not None and task_id not in bound:
            candidates[named_item].append(task_id)
    unbound = Item.objects.filter(project=project, id__in=list(candidates), ls_task_id__isnull=True)
    rows = [(item_id, min(candidates[item_id])) for item_id in unbound.values_list("id", flat=True)]
    update_from_values(Item, fields=["ls_task_id"], rows=rows, constants={"pushed_at": timezone.now()})
    if rows:
        log.warning(
            "project %s: bound %d items to the tasks Label Studio holds for them", project.id, len(rows)
        )
    return len(rows)


def _repair_all(project: Project, tasks_of: dict[int, list[int]]) -> int:
    """Point every item at a Label Studio task whose data names it (the lowest such id; an
    import retried after a timeout can leave two), or at none so that ``push`` sends it again.
    Returns how many items changed."""
    wrong: dict[int, int | None] = {}
    for item_id, ls_task_id in (
        Item.objects.filter(project=project).values_list("id", "ls_task_id").iterator(chunk_size=10_000)
    ):
        candidates = tasks_of.get(item_id, [])
        if ls_task_id is not None and ls_task_id in candidates:
            continue
        if ls_task_id is None and not candidates:
            continue
        wrong[item_id] = min(candidates) if candidates else None
    if not wrong:
        return 0
    with transaction.atomic():
        # Unbind first: a right task id may be held by another item that is itself wrong.
        Item.objects.filter(id__in=list(wrong)).update(ls_task_id=None, pushed_at=None)
        rebound = [t for t in wrong.values() if t is not None]
        taken = set(
            Item.objects.filter(project=project, ls_task_id__in=rebound).values_list("ls_task_id", flat=True)
        )
        rows = []
        for item_id, task_id in wrong.items():
            if task_id is not None and task_id not in taken:
                taken.add(task_id)
                rows.append((item_id, task_id))
        update_from_values(Item, fields=["ls_task_id"], rows=rows, constants={"pushed_at": timezone.now()})
    log.warning("project %s: repaired the task ids of %d items", project.id, len(wrong))
    return len(wrong)


def _own_item(task: LsTaskChange) -> int | None:
    """The item a task is the own task of (follow-up tasks name an item but are not its task)."""
    item_id = task.data.get("item_id")
    if isinstance(item_id, int) and not isinstance(item_id, bool) and not is_follow_up(task.data):
        return item_id
    return None


def _delete(ids: Iterable[int]) -> int:
    found = list(ids)
    for start in range(0, len(found), TASK_CHUNK):
        Annotation.objects.filter(id__in=found[start : start + TASK_CHUNK]).delete()
    return len(found)


def _chunks(values: Iterable[LsTaskChange], size: int) -> Iterator[list[LsTaskChange]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk
