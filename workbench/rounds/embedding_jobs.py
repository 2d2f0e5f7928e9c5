"""Embeddings computed as items arrive: an import's items are split into chunks, each embedded by
one Celery task, so a round finds them in the cache instead of embedding the whole pool itself.

Why chunks of ids and not one task per import: a million items take hours to embed on CPU; a
chunk (``EMBEDDING_CHUNK_SIZE`` items) is minutes at most, so several worker processes share the
work, a killed worker loses one chunk (redelivered: ``acks_late`` + ``reject_on_worker_lost``),
and within that chunk it keeps what it had written (the cache is written every
:data:`workbench.rounds.embeddings.WRITE_EVERY` texts; a redo encodes only what is missing).

Counting: a chunk is counted when its task claims ``done_at`` with a conditional UPDATE, in the
same transaction as the project's counters (:class:`EmbeddingProgress`), so a chunk run twice is
counted once and pages read two numbers, never a COUNT over the pool.

This module owns the chunking; ``items_import`` calls :func:`embedding_after_import` once its
transaction commits, ``manage.py embed_items`` calls :func:`embedding_enqueue_missing`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

import active_learning as al
from workbench.projects import kinds
from workbench.projects.models import Item, ItemImport, Project
from workbench.rounds import embeddings
from workbench.rounds.models import EmbeddingChunk, EmbeddingProgress
from workbench.rounds.selectors import EmbeddingCounts, embedding_progress

log = logging.getLogger(__name__)


def chunk_bounds(item_ids: Sequence[int], size: int) -> list[tuple[int, int, int]]:
    """``(first_id, last_id, count)`` of consecutive runs of ``size`` ids (ascending)."""
    if size < 1:
        raise ValueError(f"EMBEDDING_CHUNK_SIZE must be at least 1; got {size}")
    return [
        (int(item_ids[i]), int(item_ids[min(i + size, len(item_ids)) - 1]), min(size, len(item_ids) - i))
        for i in range(0, len(item_ids), size)
    ]


def _chunks_create(
    *, project: Project, source: ItemImport | None, item_ids: Sequence[int], done: Sequence[bool] = ()
) -> list[int]:
    """Record chunks over ``item_ids`` (ascending) and add them to the counters; returns the ids
    of the chunks to run (``done[i]``: chunk i needs no task, every text is cached), each
    enqueued once this transaction commits."""
    bounds = chunk_bounds(item_ids, settings.EMBEDDING_CHUNK_SIZE)
    now = timezone.now()
    rows = EmbeddingChunk.objects.bulk_create(
        EmbeddingChunk(
            project=project,
            source=source,
            first_item_id=first,
            last_item_id=last,
            size=count,
            computed=0 if i < len(done) and done[i] else None,
            done_at=now if i < len(done) and done[i] else None,
        )
        for i, (first, last, count) in enumerate(bounds)
    )
    finished = [r for r in rows if r.done_at is not None]
    EmbeddingProgress.objects.filter(project=project).update(
        total=F("total") + len(item_ids),
        chunks=F("chunks") + len(rows),
        embedded=F("embedded") + sum(r.size for r in finished),
        chunks_done=F("chunks_done") + len(finished),
    )
    todo = [r.id for r in rows if r.done_at is None]
    if todo:
        transaction.on_commit(lambda: _enqueue(todo), robust=True)  # see embedding_after_import
    return todo


def _enqueue(chunk_ids: Sequence[int]) -> None:
    from workbench.rounds import tasks

    for chunk_id in chunk_ids:
        tasks.embed_chunk.delay(chunk_id)


def _progress_row(project: Project, model_id: str) -> EmbeddingProgress:
    row, _ = EmbeddingProgress.objects.select_for_update().get_or_create(
        project=project, defaults={"model_id": model_id}
    )
    return row


def embedding_after_import(*, import_id: int) -> int:
    """Chunk and enqueue the items an import created (called once it committed); returns the
    number of chunks. Does nothing with ``EMBED_ON_IMPORT`` off: rounds embed what they need."""
    if not settings.EMBED_ON_IMPORT:
        return 0
    record = ItemImport.objects.select_related("project").get(id=import_id)
    ids = list(Item.objects.filter(source=record).order_by("id").values_list("id", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        _progress_row(record.project, embeddings.featurizer().model_id)
        return len(_chunks_create(project=record.project, source=record, item_ids=ids))


def embedding_enqueue_missing(*, project: Project) -> EmbeddingCounts:
    """Start the project's counts afresh for the current featurizer: chunk every item, enqueue
    the chunks with a text the cache lacks, count the others as done. Tasks of older chunks
    still queued find their chunk gone and do nothing."""
    spec = kinds.spec_of(project.kind)
    feat = embeddings.featurizer()
    cache = embeddings.cache_of(feat)
    ids: list[int] = []
    cached: list[bool] = []
    rows = (
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("id", "data")
        .iterator(chunk_size=5000)
    )
    batch: list[tuple[int, dict[str, object]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) == 20_000:
            _scan(batch, spec, cache, ids, cached)
            batch = []
    _scan(batch, spec, cache, ids, cached)
    size = settings.EMBEDDING_CHUNK_SIZE
    done = [all(cached[i : i + size]) for i in range(0, len(ids), size)]
    with transaction.atomic():
        row = _progress_row(project, feat.model_id)
        EmbeddingChunk.objects.filter(project=project).delete()
        row.model_id, row.total, row.embedded, row.chunks, row.chunks_done = feat.model_id, 0, 0, 0, 0
        row.save()
        _chunks_create(project=project, source=None, item_ids=ids, done=done)
    return embedding_progress(project)


def _scan(
    batch: list[tuple[int, dict[str, object]]],
    spec: kinds.KindSpec,
    cache: al.FileEmbeddingCache,
    ids: list[int],
    cached: list[bool],
) -> None:
    if not batch:
        return
    width = len(spec.embed_fields)
    keys = al.content_keys(t for _, data in batch for t in spec.texts(data))
    present = np.asarray(cache.contains(keys).reshape(len(batch), width).all(axis=1), dtype=bool)
    ids.extend(item_id for item_id, _ in batch)
    cached.extend(present.tolist())


def _members(chunk: EmbeddingChunk) -> QuerySet[Item]:
    items = Item.objects.filter(
        project_id=chunk.project_id, id__gte=chunk.first_item_id, id__lte=chunk.last_item_id
    )
    return items.filter(source_id=chunk.source_id) if chunk.source_id is not None else items


def embedding_chunk_run(*, chunk_id: int) -> int | None:
    """Embed a chunk's items that the cache lacks and count the chunk once; returns how many
    texts were encoded, None when the chunk is done already or gone (a task run twice)."""
    chunk = EmbeddingChunk.objects.select_related("project").filter(id=chunk_id).first()
    if chunk is None or chunk.done_at is not None:
        return None
    data = list(_members(chunk).order_by("id").values_list("data", flat=True))
    _, _, computed = embeddings.embed_texts_counted(kinds.spec_of(chunk.project.kind), data)
    with transaction.atomic():
        claimed = EmbeddingChunk.objects.filter(id=chunk_id, done_at__isnull=True).update(
            done_at=timezone.now(), computed=computed
        )
        if claimed:
            EmbeddingProgress.objects.filter(project_id=chunk.project_id).update(
                embedded=F("embedded") + chunk.size, chunks_done=F("chunks_done") + 1
            )
    log.info("embedding chunk %s (project %s): %s texts encoded", chunk_id, chunk.project_id, computed)
    return computed if claimed else None
