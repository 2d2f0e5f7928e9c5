"""Batched ingest: many Label Studio annotations of one project become rows with a fixed number
of queries per batch, whatever its size (webhook processing and reconciliation both end here).

Per batch: the items named by the tasks' ``item_id`` (one query), the annotators by Label Studio
user id (one), the guideline version in force for every answer (at most one), the existing rows
(one, locked), then one ``INSERT ... ON CONFLICT (project, ls_annotation_id) DO UPDATE`` per
``UPSERT_ROWS`` rows. The rules are the one-annotation rules they replace: what Label Studio says
wins, an answer about a pair's shown sides maps back through the item's recorded order, an item
whose push bookkeeping failed adopts its task, a row counts as updated only when its content
(never its bookkeeping) changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

from workbench.accounts.models import Account
from workbench.annotations.models import Annotation
from workbench.bulk import update_from_values
from workbench.labelstudio.types import LsAnnotation
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import is_follow_up

log = logging.getLogger(__name__)

UPSERT_ROWS = 1000
# Fields compared to tell "updated" from "unchanged"; bookkeeping (source, synced_at) is not.
CONTENT = (
    "item_id",
    "annotator_id",
    "ls_user_id",
    "label",
    "result",
    "lead_time",
    "was_cancelled",
    "ls_created_at",
    "ls_updated_at",
)
# strength follows from result (a graded answer), which CONTENT compares.
_WRITTEN = [*CONTENT, "strength", "source", "guideline_version", "ls_task_id", "synced_at"]


@dataclass
class Prepared:
    """A batch made ready to write: one unsaved row per Label Studio annotation id (the last
    copy wins when a batch names one twice), the ids whose task names no item of the project, and
    the ids whose answer cannot be read as a label (with why)."""

    rows: dict[int, Annotation] = field(default_factory=dict)
    unknown: set[int] = field(default_factory=set)
    errors: dict[int, kinds.ConfigError] = field(default_factory=dict)


def annotations_upsert(
    *, project: Project, annotations: Iterable[LsAnnotation], source: Annotation.Source
) -> Counter[str]:
    """Store these annotations of ``project`` as Label Studio has them; counts created /
    updated / unchanged / unknown_item. An answer that cannot be read as a label raises its
    ConfigError (call inside a transaction: nothing of the batch is then kept)."""
    prepared = annotations_prepare(project=project, annotations=annotations, source=source)
    if prepared.errors:
        raise next(iter(prepared.errors.values()))
    counts = annotations_write(project=project, rows=list(prepared.rows.values()))
    if prepared.unknown:
        counts["unknown_item"] += len(prepared.unknown)
    return counts


def annotations_prepare(
    *, project: Project, annotations: Iterable[LsAnnotation], source: Annotation.Source
) -> Prepared:
    latest = {ls.id: ls for ls in annotations}
    batch = list(latest.values())
    prepared = Prepared()
    items = _items_for(project, batch)
    users = _annotators(ls.completed_by for ls in batch)
    interface = kinds.interface_of(project)  # the project's own config (graded or not)
    known = [ls for ls in batch if ls.id in items]
    prepared.unknown = {ls.id for ls in batch if ls.id not in items}
    from workbench.guidelines.selectors import versions_in_force  # late: guidelines builds on us

    versions = versions_in_force(
        project=project, answers=[(ls.task_data.get("guideline_version"), ls.created_at) for ls in known]
    )
    now = timezone.now()
    for ls, version in zip(known, versions, strict=True):
        item = items[ls.id]
        label: Any = None
        strength: int | None = None
        if not ls.was_cancelled:
            try:
                # Answers about a pair's shown sides map back with the item's recorded order.
                parsed = interface.answer_from(ls.result, sides=item.sides)
            except kinds.ConfigError as exc:
                prepared.errors[ls.id] = exc
                continue
            label = list(parsed.label) if isinstance(parsed.label, tuple) else parsed.label
            strength = parsed.strength
        prepared.rows[ls.id] = Annotation(
            project=project,
            ls_annotation_id=ls.id,
            item_id=item.id,
            annotator_id=users.get(ls.completed_by),
            ls_user_id=ls.completed_by,
            label=label,
            strength=strength,
            result=ls.result,
            lead_time=ls.lead_time,
            was_cancelled=ls.was_cancelled,
            ls_created_at=ls.created_at,
            ls_updated_at=ls.updated_at,
            ls_task_id=ls.task_id,
            source=source,
            guideline_version=version,
            synced_at=now,
        )
    return prepared


def annotations_write(*, project: Project, rows: Sequence[Annotation]) -> Counter[str]:
    """Upsert prepared rows; counts created / updated / unchanged against the rows there were."""
    counts: Counter[str] = Counter()
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start : start + UPSERT_ROWS]
        existing = {
            row["ls_annotation_id"]: row
            for row in Annotation.objects.select_for_update()
            .filter(project=project, ls_annotation_id__in=[r.ls_annotation_id for r in chunk])
            .values("ls_annotation_id", *CONTENT)
        }
        for row in chunk:
            old = existing.get(row.ls_annotation_id)
            if old is None:
                counts["created"] += 1
            elif any(old[name] != getattr(row, name) for name in CONTENT):
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if connection.vendor == "postgresql":
            _upsert_by_copy(chunk)
        else:
            Annotation.objects.bulk_create(
                chunk,
                update_conflicts=True,
                unique_fields=["project", "ls_annotation_id"],
                update_fields=_WRITTEN,
            )
    return counts


def _upsert_by_copy(rows: Sequence[Annotation]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT ... ON CONFLICT from it.
    ``bulk_create`` binds every value in Python (its JSON quoted by a regex per string), which
    was most of an ingest's time; COPY hands them over in its own format."""
    meta = Annotation._meta
    fields = [meta.get_field(name) for name in ["project", "ls_annotation_id", *_WRITTEN]]
    columns = [str(f.column) for f in fields]  # type: ignore[union-attr]
    json_columns = {str(f.column) for f in fields if isinstance(f, JSONField)}
    table = meta.db_table
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[2:])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS annotation_upsert ON COMMIT DELETE ROWS "
            f"AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY annotation_upsert ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        orjson.dumps(value).decode()
                        if column in json_columns and value is not None
                        else value
                        for column, value in ((c, getattr(row, c)) for c in columns)
                    ]
                )
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM annotation_upsert "
            f"ON CONFLICT (project_id, ls_annotation_id) DO UPDATE SET {updates}"
        )
        cursor.execute("DELETE FROM annotation_upsert")


def _items_for(project: Project, batch: Sequence[LsAnnotation]) -> dict[int, Item]:
    """The item each annotation's task names (by annotation id), and adoption: an item without
    a task id takes the task of its answer when no other item holds it (the push reached Label
    Studio but its bookkeeping did not commit; Label Studio's own task data says it is this
    item's)."""
    wanted = {item_id for ls in batch if (item_id := _item_id(ls)) is not None}
    found = {
        item.id: item
        for item in Item.objects.filter(project=project, id__in=wanted).only("id", "ls_task_id", "sides")
    }
    items = {ls.id: found[item_id] for ls in batch if (item_id := _item_id(ls)) in found}
    missing = [ls for ls in batch if ls.id not in items]
    if missing:
        log.warning(
            "project %s: %d annotations are on tasks that name none of its items "
            "(e.g. annotation %s, task %s)",
            project.id,
            len(missing),
            missing[0].id,
            missing[0].task_id,
        )
    orphans = [
        ls
        for ls in batch
        if ls.id in items and items[ls.id].ls_task_id is None and not is_follow_up(ls.task_data)
    ]
    if orphans:
        taken = set(
            Item.objects.filter(project=project, ls_task_id__in={ls.task_id for ls in orphans}).values_list(
                "ls_task_id", flat=True
            )
        )
        adopted: list[tuple[int, int]] = []
        for ls in orphans:
            item = items[ls.id]
            if item.ls_task_id is None and ls.task_id not in taken:
                item.ls_task_id = ls.task_id
                taken.add(ls.task_id)
                adopted.append((item.id, ls.task_id))
        update_from_values(Item, fields=["ls_task_id"], rows=adopted, constants={"pushed_at": timezone.now()})
    return items


def _item_id(ls: LsAnnotation) -> int | None:
    value = ls.task_data.get("item_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _annotators(ls_user_ids: Iterable[int]) -> dict[int, int]:
    """Label Studio user id -> workbench user id (the first account, as one lookup would)."""
    found: dict[int, int] = {}
    rows = (
        Account.objects.filter(ls_user_id__in=set(ls_user_ids))
        .order_by("-pk")
        .values_list("ls_user_id", "user_id")
    )
    for ls_user_id, user_id in rows:
        if ls_user_id is not None:
            found[ls_user_id] = user_id
    return found


def round_start_if_due(project: Project) -> None:
    """Active learning may start a round every N new annotations (the project's round settings);
    the round runs once this transaction commits."""
    from workbench.rounds.services import round_auto_start_if_due

    round_auto_start_if_due(project=project)
