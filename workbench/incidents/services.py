"""Writes: import a feedback batch (all rows or none), run its drift check once it has
committed, and queue its stratified sample for relabeling under the guideline in force."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from workbench.audits.models import DriftCheck
from workbench.audits.services.drift import drift_check_run
from workbench.bounds import Bound, check_bounds
from workbench.errors import Conflict, ValidationFailed
from workbench.guidelines.campaigns import campaign_open
from workbench.guidelines.selection import Selection
from workbench.guidelines.selectors import version_current
from workbench.incidents import selectors
from workbench.incidents.models import FeedbackBatch, FeedbackEntry
from workbench.incidents.parsing import parse_feedback
from workbench.incidents.sampling import stratified_sample
from workbench.projects.kinds import Kind
from workbench.projects.models import Item, ItemImport, Project
from workbench.projects.services import import_errors

SAMPLE_BOUNDS = {
    "size": Bound(1, 10_000, integer=True),
    "bins": Bound(1, 100, integer=True, why="equal-width bins of the model's score"),
    "seed": Bound(0, 2**63 - 1, integer=True),
}
DEFAULT_SAMPLE_SIZE = 50
DEFAULT_BINS = 5


def _user(user: User | None) -> User | None:
    return user if user is not None and user.pk else None


def feedback_import(
    *,
    project: Project,
    source: str,
    content: bytes | BinaryIO,
    model_version: str = "",
    release_version: int | None = None,
    note: str = "",
    columns: Mapping[str, str] | None = None,
    created_by: User | None = None,
) -> FeedbackBatch:
    """Import production feedback as one batch: a text already in the pool (same content hash)
    is linked to its item, any other becomes a new item of the batch's own import. Every row is
    checked before anything is written; an error names the file, the row and the field."""
    if Kind(project.kind) is not Kind.TOXICITY_BINARY:
        raise ValidationFailed(
            f"Feedback batches need a toxicity_binary project (a score is P(toxic)); "
            f"'{project.name}' is {project.kind}."
        )
    if (
        release_version is not None
        and not selectors.published_releases(project).filter(version=release_version).exists()
    ):
        raise ValidationFailed(
            f"release: project has no published release {release_version}.",
            extra={"fields": {"release": ["no such published release"]}},
        )
    with import_errors():
        parsed = parse_feedback(
            kind=project.kind,
            source=source,
            content=content,
            model_version=model_version,
            columns=columns,
            max_field_chars=settings.IMPORT_MAX_FIELD_CHARS,
            max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
            max_decompressed_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES,
        )
    rows = parsed.rows
    hashes = {r.item.content_hash for r in rows}
    with transaction.atomic():
        existing = dict(
            Item.objects.filter(project=project, content_hash__in=hashes).values_list("content_hash", "id")
        )
        wanted_ids = {r.item.external_id for r in rows if r.item.external_id}
        used_ids = dict(
            Item.objects.filter(project=project, external_id__in=wanted_ids).values_list(
                "external_id", "content_hash"
            )
        )
        new: dict[str, Item] = {}
        for r in rows:
            digest = r.item.content_hash
            if digest in existing or digest in new:
                continue
            if r.item.external_id and used_ids.get(r.item.external_id, digest) != digest:
                raise ValidationFailed(
                    f"{source}: row {r.item.row}, field 'external_id': '{r.item.external_id}' is already "
                    "used by an item with other content; nothing was imported.",
                    extra={
                        "errors": [
                            {
                                "file": source,
                                "row": r.item.row,
                                "field": "external_id",
                                "message": "already used by an item with other content",
                            }
                        ]
                    },
                )
            new[digest] = Item(
                project=project,
                external_id=r.item.external_id,
                content_hash=digest,
                data=r.item.data,
                metadata=r.item.metadata,
            )
        record = ItemImport.objects.create(
            project=project,
            source_name=f"feedback {source}"[:255],
            source_sha256=parsed.sha256,
            rows=len(rows),
            created_count=len(new),
            duplicate_count=len(rows) - len(new),
            created_by=_user(created_by),
        )
        for item in new.values():
            item.source = record
        Item.objects.bulk_create(new.values(), batch_size=1000)
        ids = dict(
            Item.objects.filter(project=project, content_hash__in=hashes).values_list("content_hash", "id")
        )
        batch = FeedbackBatch.objects.create(
            project=project,
            item_import=record,
            source_name=source[:255],
            source_sha256=parsed.sha256,
            model_version=parsed.model_version,
            release_version=release_version,
            note=note.strip(),
            rows=len(rows),
            created_count=len(new),
            linked_count=sum(r.item.content_hash in existing for r in rows),
            created_by=_user(created_by),
        )
        FeedbackEntry.objects.bulk_create(
            (
                FeedbackEntry(
                    batch=batch,
                    item_id=ids[r.item.content_hash],
                    row=r.item.row,
                    score=r.score,
                    report=r.report,
                    note=r.note,
                    new_item=r.item.content_hash not in existing,
                )
                for r in rows
            ),
            batch_size=1000,
        )
        _enqueue_drift(batch.id)
    return batch


def _enqueue_drift(batch_id: int) -> None:
    from workbench.incidents import tasks

    transaction.on_commit(lambda: tasks.feedback_drift.delay(batch_id))


def feedback_drift_run(*, batch_id: int) -> DriftCheck | None:
    """The drift check of the batch's new items against the deployed model's training release
    (``selectors.training_reference``), stored as its import's check. Runs twice safely: the
    check is the import's one row, overwritten."""
    batch = FeedbackBatch.objects.select_related("project", "item_import").filter(id=batch_id).first()
    if batch is None:
        return None  # the project was deleted since
    side_a, side_b = selectors.training_reference(batch), f"import:{batch.item_import_id}"
    try:
        return drift_check_run(
            project=batch.project,
            side_a=side_a,
            side_b=side_b,
            trigger=DriftCheck.Trigger.IMPORT,
            item_import=batch.item_import,
        )
    except ValidationFailed as exc:  # e.g. an identity column holding words: say so, keep the batch
        check, _ = DriftCheck.objects.update_or_create(
            item_import=batch.item_import,
            defaults={
                "project": batch.project,
                "trigger": DriftCheck.Trigger.IMPORT,
                "side_a": side_a,
                "side_b": side_b,
                "status": DriftCheck.Status.SKIPPED,
                "reason": exc.message,
            },
        )
        return check


def feedback_sample_queue(
    *,
    batch: FeedbackBatch,
    size: int = DEFAULT_SAMPLE_SIZE,
    bins: int = DEFAULT_BINS,
    seed: int | None = None,
    created_by: User | None = None,
) -> FeedbackBatch:
    """Queue a sample of the batch's items, stratified by report type and score bin, as a relabel
    campaign under the guideline in force (one sample per batch), opened by the campaigns' own
    ``campaign_open`` over the chosen item ids (its seed is the sample's). An item's stratum is
    that of its first row; a chosen item already answered under the version in force is left
    out of the campaign (the sample records what was drawn)."""
    seed = secrets.randbits(32) if seed is None else seed
    check_bounds(SAMPLE_BOUNDS, {"size": size, "bins": bins, "seed": seed})
    project = batch.project
    version = version_current(project)
    firsts: dict[int, FeedbackEntry] = {}
    for entry in selectors.entries_of(batch):
        firsts.setdefault(entry.item_id, entry)
    entries = list(firsts.values())
    if not entries:
        raise ValidationFailed(f"Feedback batch {batch.id} holds no rows; nothing to sample.")
    positions, strata = stratified_sample(
        [e.report for e in entries],
        [e.score for e in entries],
        size=size,
        bins=bins,
        rng=np.random.default_rng(seed),
    )
    chosen = [entries[p] for p in positions]
    threshold = selectors.provenance_of(batch).threshold
    with transaction.atomic():
        locked = FeedbackBatch.objects.select_for_update().get(id=batch.id)
        if locked.campaign_id is not None:
            raise Conflict(
                f"Feedback batch {batch.id} already has its sample queued (relabel campaign "
                f"{locked.campaign_id}).",
                extra={"campaign_id": locked.campaign_id},
            )
        campaign = campaign_open(
            version=version,
            selection=Selection(item_ids=tuple(e.item_id for e in chosen)),
            created_by=created_by,
            seed=seed,
        )
        locked.campaign = campaign
        locked.sample = {
            "size": len(chosen),
            "asked": size,
            "bins": bins,
            "seed": seed,
            "threshold": threshold,
            "strata": [asdict(s) for s in strata],
        }
        locked.save(update_fields=["campaign", "sample"])
    return locked
