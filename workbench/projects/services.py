from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

import label_quality as lq
from workbench.bulk import update_from_values
from workbench.errors import Conflict, PayloadTooLarge, ValidationFailed, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import PROJECT_TITLE_MAX_CHARS, PROJECT_TITLE_MIN_CHARS, LabelStudioError
from workbench.projects import kinds, sides
from workbench.projects.importing import ImportRejected, ImportTooLarge, parse_file
from workbench.projects.models import Item, ItemImport, Project, ProjectMembership
from workbench.projects.streams import ChunkStream
from workbench.projects.uploads import refuse_if_too_large

log = logging.getLogger(__name__)

# One Label Studio import request per batch: Label Studio has a fixed cost per request (see
# gateway.IMPORT_BATCH_SIZE), and the bookkeeping of one batch overlaps the next one's import.
PUSH_BATCH_SIZE = 5000
WEBHOOK_PATH = "/webhooks/label-studio/"


def project_create(
    *,
    name: str,
    kind: kinds.Kind | str,
    annotators_per_item: int = 1,
    description: str = "",
    created_by: User | None = None,
) -> Project:
    """Create the project here and in Label Studio, with its labeling config and webhook."""
    if annotators_per_item < 1:
        raise ValidationFailed("annotators_per_item must be at least 1.")
    if not PROJECT_TITLE_MIN_CHARS <= len(name) <= PROJECT_TITLE_MAX_CHARS:
        # The name is the Label Studio project's title: refuse here what Label Studio would refuse.
        raise ValidationFailed(
            f"name must be {PROJECT_TITLE_MIN_CHARS} to {PROJECT_TITLE_MAX_CHARS} characters "
            f"(Label Studio's limit for project titles); got {len(name)}.",
            extra={
                "fields": {"name": [f"{PROJECT_TITLE_MIN_CHARS} to {PROJECT_TITLE_MAX_CHARS} characters"]}
            },
        )
    if Project.objects.filter(name=name).exists():
        raise Conflict(f"A project named '{name}' already exists.")
    interface = kinds.interface(kind)
    gateway = connection.get_gateway()
    try:
        ls_project_id = gateway.create_project(
            title=name, label_config=interface.xml, maximum_annotations=annotators_per_item
        )
    except LabelStudioError as exc:
        raise upstream_error(exc, "Label Studio refused the project") from exc
    try:
        webhook_id = gateway.register_webhook(
            project_id=ls_project_id,
            url=settings.PUBLIC_URL + WEBHOOK_PATH,
            secret=settings.WEBHOOK_SECRET,
        )
        with transaction.atomic():
            project = Project.objects.create(
                name=name,
                kind=interface.spec.kind.value,
                description=description,
                label_config_name=interface.spec.config_name,
                label_config_sha256=interface.sha256,
                annotators_per_item=annotators_per_item,
                ls_project_id=ls_project_id,
                ls_webhook_id=webhook_id,
                created_by=created_by if created_by and created_by.pk else None,
            )
            if created_by is not None and created_by.pk:
                ProjectMembership.objects.create(project=project, user=created_by)
    except BaseException as exc:
        # Don't leave a Label Studio project that nothing here points to.
        gateway.delete_project(project_id=ls_project_id)
        if isinstance(exc, LabelStudioError):
            raise upstream_error(exc, "Label Studio refused the webhook") from exc
        raise
    return project


def project_member_add(*, project: Project, user: User) -> None:
    ProjectMembership.objects.get_or_create(project=project, user=user)


@dataclass(frozen=True)
class ImportReport:
    import_id: int
    rows: int
    created: int
    duplicates: int
    duplicate_rows: list[int] = field(default_factory=list)
    # Preference pairs whose two responses are the same or nearly (nobody can rank them):
    # imported, but named here (first 100) so they can be fixed or removed.
    near_identical: int = 0
    near_identical_rows: list[dict[str, Any]] = field(default_factory=list)


def import_body_check(*, content_length: str | int | None) -> None:
    """Refuse an import request whose body is over the file limit before it is parsed: a JSON
    body is read whole by the parser, so its size is bounded here, by ``IMPORT_MAX_FILE_BYTES``
    (multipart bodies are also refused by ``BoundedUploadHandler`` while Django parses them)."""
    try:
        length = int(content_length or 0)
    except ValueError:
        raise ValidationFailed("The Content-Length header is not a number.") from None
    refuse_if_too_large(length)


def items_import(
    *,
    project: Project,
    source: str,
    content: bytes | BinaryIO,
    columns: Mapping[str, str] | None = None,
    created_by: User | None = None,
) -> ImportReport:
    """Import a CSV/JSONL file into the project's pool: all rows or none.

    Rows whose content is already in the pool (or earlier in the same file) are skipped and
    reported as duplicates; an external id already used by different content is an error.
    """
    try:
        parsed = parse_file(
            kind=project.kind,
            source=source,
            content=content,
            columns=columns,
            max_field_chars=settings.IMPORT_MAX_FIELD_CHARS,
            max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
            max_decompressed_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES,
        )
    except ImportTooLarge as exc:
        raise PayloadTooLarge(
            str(exc), extra={"errors": [e.as_dict(exc.source) for e in exc.errors], "limit": exc.limit}
        ) from exc
    except ImportRejected as exc:
        raise ValidationFailed(
            str(exc), extra={"errors": [e.as_dict(exc.source) for e in exc.errors], "more": exc.more}
        ) from exc
    rows = parsed.rows

    with transaction.atomic():
        existing_hashes = set(Item.objects.filter(project=project).values_list("content_hash", flat=True))
        existing_ids = dict(
            Item.objects.filter(project=project)
            .exclude(external_id="")
            .values_list("external_id", "content_hash")
        )
        new: list[Item] = []
        new_rows: list[int] = []
        duplicate_rows: list[int] = []
        conflicts: list[dict[str, Any]] = []
        for row in rows:
            digest = row.content_hash
            if digest in existing_hashes:
                duplicate_rows.append(row.row)
                continue
            if row.external_id and row.external_id in existing_ids:
                conflicts.append(
                    {
                        "file": source,
                        "row": row.row,
                        "field": "external_id",
                        "message": f"'{row.external_id}' is already used by an item with other content",
                    }
                )
                continue
            existing_hashes.add(digest)
            new_rows.append(row.row)
            new.append(
                Item(
                    project=project,
                    external_id=row.external_id,
                    content_hash=digest,
                    data=row.data,
                    metadata=row.metadata,
                    gold=list(row.gold) if isinstance(row.gold, tuple) else row.gold,
                )
            )
        if conflicts:
            first = conflicts[0]
            raise ValidationFailed(
                f"{source}: row {first['row']}, field 'external_id': {first['message']}; "
                "nothing was imported.",
                extra={"errors": conflicts[:50], "more": max(0, len(conflicts) - 50)},
            )
        record = ItemImport.objects.create(
            project=project,
            source_name=source[:255],
            source_sha256=parsed.sha256,
            rows=len(rows),
            created_count=len(new),
            duplicate_count=len(duplicate_rows),
            created_by=created_by if created_by and created_by.pk else None,
        )
        for item in new:
            item.source = record
        Item.objects.bulk_create(new, batch_size=1000)
        from workbench.audits.services.after_import import audits_after_import  # late: builds on us

        audits_after_import(import_id=record.id)  # identity groups and drift check, once committed
    near = _near_identical(project, new, new_rows)
    return ImportReport(
        record.id, len(rows), len(new), len(duplicate_rows), duplicate_rows[:100], len(near), near[:100]
    )


def _near_identical(project: Project, items: Sequence[Item], rows: Sequence[int]) -> list[dict[str, Any]]:
    """The new pairs whose responses are equal after whitespace normalisation or nearly so
    (``label_quality.near_identical_pairs``), by file row."""
    if not kinds.spec_of(project.kind).pair:
        return []
    found = lq.near_identical_pairs(
        [str(i.data["response_a"]) for i in items], [str(i.data["response_b"]) for i in items]
    )
    return [
        {"row": rows[f.position], "external_id": items[f.position].external_id, "reason": f.reason}
        for f in found
    ]


def items_import_records(
    *,
    project: Project,
    records: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str] | None = None,
    created_by: User | None = None,
) -> ImportReport:
    """Import items sent as JSON objects (the API's JSON body): same contract as a JSONL file."""
    lines = (json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)
    return items_import(
        project=project,
        source="request.jsonl",
        content=ChunkStream(lines),  # type: ignore[arg-type]
        columns=columns,
        created_by=created_by,
    )


# Keys that mark a follow-up task for an item (a label-issue review, a relabel campaign): answers
# to it count for the item, but it is never taken for the item's own task.
FOLLOW_UP_KEYS = ("review_of_issue", "relabel_campaign")


def is_follow_up(data: Mapping[str, Any]) -> bool:
    return any(key in data for key in FOLLOW_UP_KEYS)


def task_data(item: Item, *, guideline_version: int | None = None) -> dict[str, Any]:
    """What Label Studio shows for an item. ``item_id`` lets webhooks and reconciliation map a
    task back to its item without trusting task ids (reused on SQLite after deletions). A pair
    is shown in its recorded order (``Item.sides``, see :func:`item_sides_record`);
    ``guideline_version`` stamps every annotation of the task with the policy in force."""
    if kinds.spec_of(item.project.kind).sided:
        if not item.sides:
            raise Conflict(f"Item {item.id} has no recorded sides; it must be pushed with items_push first.")
        data = {**sides.shown_data(item.data, item.sides), "item_id": item.id}
    else:
        data = {**item.data, "item_id": item.id}
    if guideline_version is not None:
        data["guideline_version"] = guideline_version
    return data


def item_sides_record(*, project: Project, items: Sequence[Item]) -> None:
    """Draw and store the shown order of pairs that have none yet, before their tasks are sent:
    an answer arriving for a task whose push bookkeeping failed still maps back (the draw is
    reproducible from project and item alone, so a retried push draws the same)."""
    if not kinds.spec_of(project.kind).sided:
        return
    missing = [item for item in items if not item.sides]
    for item in missing:
        item.sides = sides.draw(project_id=project.id, item_id=item.id)
    update_from_values(Item, fields=["sides"], rows=[(item.id, item.sides) for item in missing])


# What task_data and item_sides_record read of an item (not its metadata, gold, hashes).
_PUSHED_FIELDS = ("id", "project_id", "data", "sides")


def items_push(*, project: Project, limit: int | None = None, item_ids: Sequence[int] | None = None) -> int:
    """Send pool items to Label Studio as tasks (oldest first, or the given ones), recording
    each task id. Returns how many were pushed.

    Streams the pool in batches of ``PUSH_BATCH_SIZE`` (memory flat in the pool's size); per
    batch: the sides of new pairs recorded, one import, one UPDATE of the task ids. While Label
    Studio imports a batch (a thread waiting on the request), this thread records the previous
    batch's task ids and reads the next batch, so the bookkeeping costs almost no wall time. A
    batch whose bookkeeping fails after Label Studio took it is adopted by reconciliation
    (``item_id`` in the task's data)."""
    pending = Item.objects.filter(project=project, ls_task_id__isnull=True).order_by("id")
    if item_ids is not None:
        pending = pending.filter(id__in=item_ids)
    from workbench.guidelines.selectors import current_version  # late: guidelines builds on projects

    version = current_version(project)
    gateway = connection.get_gateway()
    ls_project_id = project.ls_id()
    read = 0
    last_id = 0

    def next_batch() -> list[Item]:
        nonlocal read, last_id
        size = PUSH_BATCH_SIZE if limit is None else min(PUSH_BATCH_SIZE, limit - read)
        batch = list(pending.filter(id__gt=last_id).only(*_PUSHED_FIELDS)[:size]) if size > 0 else []
        for item in batch:
            item.project = project  # task_data reads the kind: no query per item
        read += len(batch)
        last_id = batch[-1].id if batch else last_id
        return batch

    pushed = 0
    unrecorded: tuple[list[Item], list[int]] | None = None
    batch = next_batch()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push") as sender:
        while batch:
            item_sides_record(project=project, items=batch)  # committed before the tasks exist
            tasks = [task_data(i, guideline_version=version) for i in batch]
            sending = sender.submit(gateway.import_tasks, project_id=ls_project_id, tasks=tasks)
            if unrecorded is not None:
                pushed += _task_ids_record(*unrecorded)
            following = next_batch()
            try:
                unrecorded = (batch, sending.result())
            except LabelStudioError as exc:
                raise upstream_error(
                    exc, f"Label Studio refused tasks after {pushed} were pushed", extra={"pushed": pushed}
                ) from exc
            batch = following
    if unrecorded is not None:
        pushed += _task_ids_record(*unrecorded)
    return pushed


def _task_ids_record(batch: Sequence[Item], task_ids: Sequence[int]) -> int:
    rows = [(item.id, task_id) for item, task_id in zip(batch, task_ids, strict=True)]
    with transaction.atomic():
        update_from_values(Item, fields=["ls_task_id"], rows=rows, constants={"pushed_at": timezone.now()})
    return len(rows)
