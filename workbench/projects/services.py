from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection as database
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import label_quality as lq
from workbench.bulk import update_from_values
from workbench.errors import Conflict, PayloadTooLarge, ValidationFailed, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import PROJECT_TITLE_MAX_CHARS, PROJECT_TITLE_MIN_CHARS, LabelStudioError
from workbench.projects import bulk, kinds, sides
from workbench.projects.importing import (
    MAX_REPORTED_ERRORS,
    ImportRejected,
    ImportTooLarge,
    ParsedRow,
    RowError,
    RowStream,
    repeat_error,
)
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
    label_config: str | None = None,
) -> Project:
    """Create the project here and in Label Studio, with its labeling config and webhook.
    ``label_config``: one of the kind's configs (:attr:`~workbench.projects.kinds.KindSpec.config_names`,
    e.g. ``preference_graded.xml``); the kind's default when None."""
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
    try:
        config_name = kinds.config_for(kind, label_config)
    except kinds.ConfigError as exc:
        problem = f"label_config: {exc}"
        raise ValidationFailed(problem, extra={"fields": {"label_config": [str(exc)]}}) from exc
    interface = kinds.interface(kind, config_name)
    if Project.objects.filter(name=name).exists():
        raise Conflict(f"A project named '{name}' already exists.")
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
                label_config_name=interface.config_name,
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


def import_body_check(*, content_length: str | int | None, multipart: bool) -> None:
    """Refuse an import request whose body is over its limit before it is parsed: a multipart
    body (a file, read as a stream) by ``IMPORT_MAX_FILE_BYTES`` (``BoundedUploadHandler``
    refuses it too while Django parses it), a JSON body, which the parser reads whole, by
    ``IMPORT_MAX_JSON_BODY_BYTES``."""
    try:
        length = int(content_length or 0)
    except ValueError:
        raise ValidationFailed("The Content-Length header is not a number.") from None
    if multipart:
        refuse_if_too_large(length)
        return
    limit = settings.IMPORT_MAX_JSON_BODY_BYTES
    if length > limit:
        raise PayloadTooLarge(
            f"The JSON body ({length} bytes) is larger than the {limit}-byte limit "
            "(IMPORT_MAX_JSON_BODY_BYTES); send a pool this big as a file. Nothing was imported.",
            extra={"limit": limit},
        )


@contextmanager
def import_errors() -> Iterator[None]:
    """The import parser's rejections as the API's errors, for every import of rows (items,
    feedback): an over-limit file is a 413 with its limit, any other a 400 listing each
    problem's file, row and field (the first 50, and how many more)."""
    try:
        yield
    except ImportTooLarge as exc:
        raise PayloadTooLarge(
            str(exc), extra={"errors": [e.as_dict(exc.source) for e in exc.errors], "limit": exc.limit}
        ) from exc
    except ImportRejected as exc:
        raise ValidationFailed(
            str(exc), extra={"errors": [e.as_dict(exc.source) for e in exc.errors], "more": exc.more}
        ) from exc


ImportProgress = Callable[[int, int], None]
"""Called after each batch with the rows read so far and the raw bytes read so far."""


def items_import(
    *,
    project: Project,
    source: str,
    content: bytes | BinaryIO,
    columns: Mapping[str, str] | None = None,
    created_by: User | None = None,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import a CSV/JSONL file into the project's pool: all rows or none.

    Rows whose content is already in the pool (or earlier in the same file) are skipped and
    reported as duplicates; an external id already used by different content is an error. The
    file is parsed as a stream and written in batches to a staging table where the duplicate
    rules run (``workbench.projects.bulk``): memory stays at one batch whatever the file's size.
    Imports into one project run one at a time (the project row is locked).
    """
    stream = RowStream(
        kind=project.kind,
        source=source,
        content=content,
        columns=columns,
        max_field_chars=settings.IMPORT_MAX_FIELD_CHARS,
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_decompressed_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES,
    )
    pair = kinds.spec_of(project.kind).pair
    with import_errors(), transaction.atomic(), database.cursor() as cursor:
        Project.objects.select_for_update().filter(id=project.id).first()
        # Made first (its counts and the file's sha256 once the file is read): the items
        # written batch by batch point at it.
        record = ItemImport.objects.create(
            project=project,
            source_name=source[:255],
            source_sha256="",
            rows=0,
            created_count=0,
            duplicate_count=0,
            created_by=created_by if created_by and created_by.pk else None,
        )
        stage = bulk.stage_create(cursor, project_id=project.id, source_id=record.id)
        started = time.perf_counter()
        with stage.writing() as add:
            for batch in _batches(stream, bulk.BATCH_ROWS):
                add(_staged(batch, pair=pair))
                if progress is not None:
                    progress(stream.rows, stream.bytes_read)
        staged_s = time.perf_counter() - started
        stage.loaded()
        repeated, repeated_count = stage.repeated_ids(MAX_REPORTED_ERRORS)
        repeats = [repeat_error(row, external_id, first) for row, external_id, first in repeated]
        rejection = stream.rejection(repeats, repeated_count)
        if rejection is not None:
            raise rejection
        conflicts, conflict_count = stage.conflicts(limit=MAX_REPORTED_ERRORS)
        if conflicts:
            taken = "is already used by an item with other content"
            errors = [
                RowError(row, "external_id", f"'{external_id}' {taken}") for row, external_id in conflicts
            ]
            raise ImportRejected(source, errors, more=conflict_count - len(errors))
        created = stage.kept()
        if stage.written != created:  # the rules above reject every kept row left unwritten
            raise RuntimeError(f"import of {source}: {created} rows kept but {stage.written} written")
        record.source_sha256 = stream.sha256
        record.rows = stage.rows
        record.created_count = created
        record.duplicate_count = stage.rows - created
        record.save(update_fields=["source_sha256", "rows", "created_count", "duplicate_count"])
        Project.objects.filter(id=project.id).update(item_count=F("item_count") + created)
        duplicate_rows = stage.duplicate_rows(100)
        near, near_count = stage.near_identical(100)
        stage.drop()
        log.info(
            "import %s of %s: %d rows parsed, staged and %d written in %.1f s, checked in %.1f s",
            record.id,
            source,
            stage.rows,
            created,
            staged_s,
            time.perf_counter() - started - staged_s,
        )
        transaction.on_commit(partial(items_import_committed, import_id=record.id))
    return ImportReport(
        record.id,
        stage.rows,
        created,
        stage.rows - created,
        duplicate_rows,
        near_count,
        [{"row": row, "external_id": external_id, "reason": reason} for row, external_id, reason in near],
    )


def items_import_committed(*, import_id: int) -> None:
    """Everything that follows an import, run once its transaction has committed: the one place
    to hook in work on the new items (each step enqueues its own Celery task; with eager Celery
    it runs here). Today: the import's audits (identity groups, drift check) and the chunks of
    its items to embed in the background (workbench/rounds/embedding_jobs.py)."""
    from workbench.audits.services.after_import import audits_after_import  # late: builds on us
    from workbench.rounds.embedding_jobs import embedding_after_import  # late: builds on us

    try:
        audits_after_import(import_id=import_id)
    finally:
        # A broker outage in one step never skips the other; the import itself has committed
        # (manage.py embed_items enqueues what is missing).
        embedding_after_import(import_id=import_id)


def _staged(rows: Sequence[ParsedRow], *, pair: bool) -> list[bulk.StagedRow]:
    """A batch as stage rows; a preference pair's near-identical check runs here, per batch
    (it looks at one pair at a time), so it never needs the whole file either."""
    near: dict[int, str] = {}
    if pair:
        found = lq.near_identical_pairs(
            [r.data["response_a"] for r in rows], [r.data["response_b"] for r in rows]
        )
        near = {f.position: f.reason for f in found}
    return [
        (
            r.row,
            r.content_hash,
            r.external_id,
            _json(r.data),
            _json(r.metadata),
            None if r.gold is None else _json(list(r.gold) if isinstance(r.gold, tuple) else r.gold),
            near.get(position),
        )
        for position, r in enumerate(rows)
    ]


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:  # e.g. an integer past 64 bits, which JSON Lines may hold
        return json.dumps(value, ensure_ascii=False)


def _batches(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    batch: list[ParsedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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


# Keys that mark a follow-up task for an item (a label-issue review, a relabel campaign, another
# annotator for a split vote: workbench/rounds/follow_ups.py): answers to it count for the item,
# but it is never taken for the item's own task.
QUEUE_FOLLOW_UP = "queue_follow_up"
FOLLOW_UP_KEYS = ("review_of_issue", "relabel_campaign", QUEUE_FOLLOW_UP)


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
