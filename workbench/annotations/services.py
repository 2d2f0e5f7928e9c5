"""Annotation sync: Label Studio → workbench, through webhooks and reconciliation.

A webhook is a notification, never data: its secret is readable by every member of the Label
Studio organisation (Community edition, ``GET /api/webhooks/``), so anyone may send one. An event
only says *which* annotations to look at; the workbench then reads each from Label Studio with
its own token and stores what Label Studio says (annotator, result, timestamps, and the item,
through the ``item_id`` in the task's data as Label Studio holds it). Reconciliation reads
everything and makes the rows equal to Label Studio's by content, never by comparing stored
timestamps, and repairs items' task ids.

Both paths end in ``_apply``, an upsert keyed by (project, Label Studio annotation id), so any
number of deliveries of the same annotation, in any order, leave one row equal to Label Studio.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workbench.accounts.models import Account
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.errors import UpstreamUnavailable, ValidationFailed, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.payloads import (
    WEBHOOK_ACTIONS,
    MalformedPayload,
    event_annotation_ids,
    event_project_id,
    scrub_secrets,
)
from workbench.labelstudio.types import LabelStudioError, LsAnnotation
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import is_follow_up
from workbench.retries import is_transient

log = logging.getLogger(__name__)

RECONCILE_CHUNK = 500
# Fields compared to tell "updated" from "unchanged"; bookkeeping (source, synced_at) is not.
_CONTENT = (
    "item",
    "annotator_id",
    "ls_user_id",
    "label",
    "result",
    "lead_time",
    "was_cancelled",
    "ls_created_at",
    "ls_updated_at",
)


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
            _apply_event(event)
            WebhookEvent.objects.filter(id=event_id).update(processed_at=timezone.now(), error="")
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


def _apply_event(event: WebhookEvent) -> None:
    if event.action not in WEBHOOK_ACTIONS:
        raise EventNotApplicable(f"unexpected action {event.action!r}")
    if not isinstance(event.payload, dict):
        raise MalformedPayload("the payload is not a JSON object")
    created_in: set[int] = set()
    for ls_annotation_id in event_annotation_ids(event.payload):
        project, outcome = annotation_sync(ls_annotation_id=ls_annotation_id)
        if project is not None and outcome == "created":
            created_in.add(project.id)
    for project in Project.objects.filter(id__in=created_in):
        _start_round_if_due(project)


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
    return project, _apply(project, ls, Annotation.Source.WEBHOOK)


def _apply(project: Project, ls: LsAnnotation, source: Annotation.Source) -> str:
    """Upsert one annotation as Label Studio has it; returns created / updated / unchanged /
    unknown_item. What Label Studio says wins, whatever the row says (its timestamps included)."""
    item = _item_for(project, ls)
    if item is None:
        return "unknown_item"
    label: Any = None
    strength = None
    if not ls.was_cancelled:
        # Answers about a pair's shown sides map back with the item's recorded order.
        parsed = kinds.interface_of(project).answer_from(ls.result, sides=item.sides)
        label = list(parsed.label) if isinstance(parsed.label, tuple) else parsed.label
        strength = parsed.strength
    fields = {
        "item": item,
        "annotator_id": Account.objects.filter(ls_user_id=ls.completed_by)
        .values_list("user_id", flat=True)
        .first(),
        "ls_user_id": ls.completed_by,
        "label": label,
        "strength": strength,
        "result": ls.result,
        "lead_time": ls.lead_time,
        "was_cancelled": ls.was_cancelled,
        "ls_created_at": ls.created_at,
        "ls_updated_at": ls.updated_at,
        "source": source,
        "synced_at": timezone.now(),
    }
    existing = Annotation.objects.select_for_update().filter(project=project, ls_annotation_id=ls.id).first()
    from workbench.guidelines.selectors import version_in_force  # late: guidelines builds on us

    fields["guideline_version"] = version_in_force(
        project=project, stamped=ls.task_data.get("guideline_version"), made_at=ls.created_at
    )
    if existing is None:
        Annotation.objects.create(project=project, ls_annotation_id=ls.id, **fields)
        return "created"
    changed = any(getattr(existing, k) != fields[k] for k in _CONTENT)
    for key, value in fields.items():
        setattr(existing, key, value)
    existing.save()
    return "updated" if changed else "unchanged"


def _item_for(project: Project, ls: LsAnnotation) -> Item | None:
    item_id = ls.task_data.get("item_id")
    item = None
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item = Item.objects.filter(project=project, id=item_id).first()
    if item is None:
        log.warning("annotation %s: task %s is not one of project %s's items", ls.id, ls.task_id, project.id)
        return None
    if item.ls_task_id is None and not is_follow_up(ls.task_data):
        # The push reached Label Studio but its bookkeeping did not commit: adopt the task
        # (Label Studio's own task data says it is this item's).
        taken = Item.objects.filter(project=project, ls_task_id=ls.task_id).exists()
        if not taken:
            item.ls_task_id, item.pushed_at = ls.task_id, timezone.now()
            item.save(update_fields=["ls_task_id", "pushed_at"])
    return item


def _start_round_if_due(project: Project) -> None:
    """Active learning may start a round every N new annotations (the project's round settings);
    the round runs once this transaction commits."""
    from workbench.rounds.services import round_auto_start_if_due

    round_auto_start_if_due(project=project)


@dataclass(frozen=True)
class ReconcileReport:
    seen: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int
    task_ids_repaired: int = 0


def annotations_reconcile(*, project: Project) -> ReconcileReport:
    """Make the project's annotations here equal to what Label Studio holds, and every item's
    task id one of the Label Studio tasks whose data names that item."""
    started = timezone.now()
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    chunk: list[LsAnnotation] = []
    if project.ls_project_id is None:
        raise ValidationFailed(f"Project {project.id} has no Label Studio project to reconcile with.")
    gateway = connection.get_gateway()
    try:
        repaired = _repair_task_ids(project, project.ls_id())
        for ls in gateway.iter_annotations(project_id=project.ls_id()):
            seen.add(ls.id)
            chunk.append(ls)
            if len(chunk) >= RECONCILE_CHUNK:
                counts.update(_apply_chunk(project, chunk))
                chunk = []
    except LabelStudioError as exc:
        raise upstream_error(exc, "Could not read annotations from Label Studio") from exc
    counts.update(_apply_chunk(project, chunk))
    # Only rows not touched since we started reading can be gone from Label Studio; a webhook
    # that arrived meanwhile may have added one our read did not include.
    stale = [
        pk
        for pk, ls_id in Annotation.objects.filter(project=project, synced_at__lt=started).values_list(
            "id", "ls_annotation_id"
        )
        if ls_id not in seen
    ]
    for start in range(0, len(stale), RECONCILE_CHUNK):
        Annotation.objects.filter(id__in=stale[start : start + RECONCILE_CHUNK]).delete()
    if counts["created"]:
        _start_round_if_due(project)
    return ReconcileReport(
        seen=len(seen),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        deleted=len(stale),
        skipped=counts["unknown_item"],
        task_ids_repaired=repaired,
    )


def _apply_chunk(project: Project, chunk: list[LsAnnotation]) -> Counter[str]:
    with transaction.atomic():
        return Counter(_apply(project, ls, Annotation.Source.RECONCILE) for ls in chunk)


def _repair_task_ids(project: Project, ls_project_id: int) -> int:
    """Point every item at a Label Studio task whose data names it (the lowest such id; an
    import retried after a timeout can leave two), or at none so that ``push`` sends it again.
    Returns how many items changed. Reads every task of the project once."""
    tasks_of: dict[int, list[int]] = defaultdict(list)
    for task in connection.get_gateway().iter_tasks(project_id=ls_project_id):
        item_id = task.data.get("item_id")
        if isinstance(item_id, int) and not is_follow_up(task.data):
            tasks_of[item_id].append(task.id)
    wrong: dict[int, int | None] = {}
    for item_id, ls_task_id in Item.objects.filter(project=project).values_list("id", "ls_task_id"):
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
        now = timezone.now()
        for item_id, task_id in wrong.items():
            if task_id is not None and not Item.objects.filter(project=project, ls_task_id=task_id).exists():
                Item.objects.filter(id=item_id).update(ls_task_id=task_id, pushed_at=now)
    log.warning("project %s: repaired the task ids of %d items", project.id, len(wrong))
    return len(wrong)


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
