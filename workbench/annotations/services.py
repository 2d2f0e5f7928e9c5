"""Annotation sync: Label Studio → workbench, through webhooks and reconciliation.

A webhook is a notification, never data: its secret is readable by every member of the Label
Studio organisation (Community edition, ``GET /api/webhooks/``), so anyone may send one. An event
only says *which* annotations to look at; the workbench then reads each from Label Studio with
its own token and stores what Label Studio says (annotator, result, timestamps, and the item,
through the ``item_id`` in the task's data as Label Studio holds it). Reconciliation reads
everything and makes the rows equal to Label Studio's by content, never by comparing stored
timestamps, and repairs items' task ids.

Both paths end in ``ingest``'s batched upsert keyed by (project, Label Studio annotation id), so
any number of deliveries of the same annotation, in any order, leave one row equal to Label
Studio. A worker that takes an event also takes the other pending events of that Label Studio
project (up to ``WEBHOOK_BATCH_EVENTS``) whose annotations one export request returns: a backlog
is ingested in batches, not one Label Studio read per annotation. Reconciliation is in
``reconcile.py``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workbench.annotations import ingest
from workbench.annotations.models import Annotation, WebhookEvent

# Re-exported: callers (commands, tasks, tests) reconcile through this module.
from workbench.annotations.reconcile import ReconcileReport as ReconcileReport
from workbench.annotations.reconcile import annotations_reconcile as annotations_reconcile
from workbench.errors import UpstreamUnavailable, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.payloads import (
    WEBHOOK_ACTIONS,
    MalformedPayload,
    event_annotation_ids,
    event_project_id,
    event_task_hint,
    scrub_secrets,
)
from workbench.labelstudio.types import LabelStudioError, LsAnnotation
from workbench.projects import kinds
from workbench.projects.models import Project
from workbench.retries import is_transient

log = logging.getLogger(__name__)

# Events a worker takes together (their annotations are read by their tasks); deletions are
# read one by one (a deleted annotation is in no export).
BATCHED_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")


class EventNotApplicable(ValueError):
    """An event that will never apply, however often it is retried; the message says why."""


def webhook_event_receive(*, payload: dict[str, Any]) -> WebhookEvent:
    """Store a webhook call for later processing. Must stay fast: Label Studio waits for it
    inside the annotator's request, with a 1 s timeout."""
    return WebhookEvent.objects.create(
        action=str(payload.get("action", ""))[:64],
        ls_project_id=event_project_id(payload),
        payload=scrub_secrets(payload),
    )


def webhook_event_process(*, event_id: int) -> None:
    """Re-read what a stored event names from Label Studio and store that. Runs twice safely:
    the event is claimed under a row lock. An event that cannot apply ends failed with its error;
    a transient failure (Label Studio down, a lost database connection) is recorded and raised, for
    the task's retry policy, until ``WEBHOOK_EVENT_MAX_ATTEMPTS`` tries have been made."""
    if event_id in _applied_here:  # applied with another event's batch by this process
        return
    counted = WebhookEvent.objects.filter(id=event_id, processed_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        return
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(id=event_id, processed_at__isnull=True)
                .first()
            )
            if event is None:  # another worker holds it
                return
            applied = _apply_event(event)
            WebhookEvent.objects.filter(id__in=[event_id, *applied]).update(
                processed_at=timezone.now(), error=""
            )
            transaction.on_commit(lambda: _remember_applied(applied))
    except Exception as exc:
        message = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
        if is_transient(exc):
            attempts = (
                WebhookEvent.objects.filter(id=event_id).values_list("attempts", flat=True).first() or 0
            )
            if attempts < settings.WEBHOOK_EVENT_MAX_ATTEMPTS:
                WebhookEvent.objects.filter(id=event_id).update(error=f"attempt {attempts}: {message}")
                raise
            message = f"gave up after {attempts} attempts: {message}"
        expected = EventNotApplicable | MalformedPayload | kinds.ConfigError | UpstreamUnavailable
        if not isinstance(exc, expected):
            log.exception("webhook event %s failed", event_id)
        else:
            log.warning("webhook event %s not applied: %s", event_id, message)
        WebhookEvent.objects.filter(id=event_id).update(processed_at=timezone.now(), error=message)


# Events this process applied in another event's batch (committed): their own tasks, most often
# taken by this same worker next, end without a query. Processed is final, so this is never
# stale; it is only a shortcut (another worker asks the database). PostgreSQL only: its
# sequences never hand out an id twice, SQLite reuses the highest id once its row is deleted.
_applied_here: set[int] = set()
_APPLIED_HERE_MAX = 100_000


def _remember_applied(event_ids: list[int]) -> None:
    if db_connection.vendor != "postgresql":
        return
    if len(_applied_here) + len(event_ids) > _APPLIED_HERE_MAX:
        _applied_here.clear()
    _applied_here.update(event_ids)


def _apply_event(event: WebhookEvent) -> list[int]:
    """Apply one event, and with it other unprocessed events of the same Label Studio project
    whose annotations one export request of their tasks returns (the tasks their payloads name:
    a hint, never data; an annotation the hinted tasks do not hold is read on its own). Returns
    the ids of the other events it applied, for the caller to mark processed with this one."""
    if event.action not in WEBHOOK_ACTIONS:
        raise EventNotApplicable(f"unexpected action {event.action!r}")
    if not isinstance(event.payload, dict):
        raise MalformedPayload("the payload is not a JSON object")
    wanted = event_annotation_ids(event.payload)
    project = (
        Project.objects.filter(ls_project_id=event.ls_project_id).first() if event.ls_project_id else None
    )
    companions = _companions(event) if project is not None else []
    hints = {h for e in [event, *(c for c, _ in companions)] if (h := event_task_hint(e.payload)) is not None}
    read: dict[int, LsAnnotation] = {}
    if project is not None and hints:
        gateway = connection.get_gateway()
        try:
            found = gateway.iter_task_annotations(project_id=project.ls_id(), task_ids=sorted(hints))
            read = {ls.id: ls for ls in found}
        except LabelStudioError as exc:
            # Only a shortcut: each annotation is then read on its own, and that read's error decides.
            log.info("webhook event %s: reading its tasks' annotations failed (%s)", event.id, exc.message)
    applied: list[int] = []
    created = Counter[str]()
    if project is not None and read:
        prepared = ingest.annotations_prepare(
            project=project, annotations=read.values(), source=Annotation.Source.WEBHOOK
        )
        own = [i for i in wanted if i in read]
        bad = next((prepared.errors[i] for i in own if i in prepared.errors), None)
        if bad is not None:
            raise bad
        batch = set(own)
        for companion, ids in companions:
            if all(i in read and i not in prepared.errors for i in ids):
                applied.append(companion.id)
                batch.update(ids)
        # Ids are global in a Label Studio: a row of these ids in another project is stale.
        Annotation.objects.filter(ls_annotation_id__in=batch).exclude(project=project).delete()
        created = ingest.annotations_write(
            project=project, rows=[row for i, row in prepared.rows.items() if i in batch]
        )
        wanted = [i for i in wanted if i not in read]
    created_in: set[int] = {project.id} if project is not None and created["created"] else set()
    for ls_annotation_id in wanted:
        synced_to, outcome = annotation_sync(ls_annotation_id=ls_annotation_id)
        if synced_to is not None and outcome == "created":
            created_in.add(synced_to.id)
    for due in Project.objects.filter(id__in=created_in):
        ingest.round_start_if_due(due)
    return applied


def _companions(event: WebhookEvent) -> list[tuple[WebhookEvent, list[int]]]:
    """Other unprocessed created/updated events of the event's Label Studio project, claimed
    under row locks (skipped when another worker holds them), with the annotation ids each names;
    events whose payload cannot be read are left to their own processing."""
    others = (
        WebhookEvent.objects.select_for_update(skip_locked=True)
        .filter(
            processed_at__isnull=True,
            ls_project_id=event.ls_project_id,
            action__in=BATCHED_ACTIONS,
            attempts__lt=settings.WEBHOOK_EVENT_MAX_ATTEMPTS,
        )
        .exclude(id=event.id)
        .order_by("id")[: settings.WEBHOOK_BATCH_EVENTS - 1]
    )
    found = []
    for other in others:
        try:
            if isinstance(other.payload, dict):
                found.append((other, event_annotation_ids(other.payload)))
        except MalformedPayload:
            continue
    return found


def annotation_sync(*, ls_annotation_id: int) -> tuple[Project | None, str]:
    """Make this workbench's rows for one Label Studio annotation equal to what Label Studio
    holds now: stored, updated, or deleted when Label Studio has it no more (ids are global in a
    Label Studio, so a row of that id in any other project is stale too)."""
    try:
        ls = connection.get_gateway().get_annotation(annotation_id=ls_annotation_id)
    except LabelStudioError as exc:
        raise upstream_error(exc, f"Could not read annotation {ls_annotation_id} from Label Studio") from exc
    rows = Annotation.objects.filter(ls_annotation_id=ls_annotation_id)
    if ls is None:
        rows.delete()
        return None, "deleted"
    project = Project.objects.filter(ls_project_id=ls.project_id).first() if ls.project_id else None
    rows.exclude(project=project).delete()
    if project is None:
        raise EventNotApplicable(
            f"annotation {ls.id} belongs to Label Studio project {ls.project_id}, which no project here uses"
        )
    counts = ingest.annotations_upsert(project=project, annotations=[ls], source=Annotation.Source.WEBHOOK)
    return project, next(outcome for outcome, n in counts.items() if n)


# --- the safety net for events that were never processed -------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeue: list[int]
    failed: int


def webhook_events_sweep(*, older_than: timedelta | None = None) -> SweepReport:
    """Events stored but never processed (the broker was down, a worker died with the message):
    those with tries left are returned for re-queueing, the others end failed with an error."""
    if older_than is None:
        older_than = timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    pending = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=timezone.now() - older_than
    )
    limit = settings.WEBHOOK_EVENT_MAX_ATTEMPTS
    exhausted = pending.filter(attempts__gte=limit)
    failed = 0
    for event_id, error in exhausted.values_list("id", "error"):
        last = f"; last error: {error}" if error else " (the worker was lost each time)"
        failed += WebhookEvent.objects.filter(id=event_id, processed_at__isnull=True).update(
            processed_at=timezone.now(), error=f"gave up after {limit} attempts{last}"
        )
    requeue = list(pending.filter(attempts__lt=limit).order_by("id").values_list("id", flat=True))
    return SweepReport(requeue=requeue, failed=failed)
