"""Annotation sync: Label Studio → workbench, through webhooks and reconciliation.

Both paths end in ``_apply``, an upsert keyed by (project, Label Studio annotation id), so any
number of deliveries of the same annotation, in any order, leave one row with its newest state.
Webhooks are fast but never retried by Label Studio; reconciliation pulls everything and fixes
what webhooks missed, including deletions.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from workbench.accounts.models import Account
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.errors import UpstreamUnavailable
from workbench.labelstudio import connection
from workbench.labelstudio.payloads import annotation_from_json, scrub_secrets
from workbench.labelstudio.types import LabelStudioError, LsAnnotation
from workbench.projects import kinds
from workbench.projects.models import Item, Project

log = logging.getLogger(__name__)

ANNOTATION_ACTIONS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED"}
DELETE_ACTIONS = {"ANNOTATIONS_DELETED"}
RECONCILE_CHUNK = 500


def webhook_event_receive(*, payload: dict[str, Any]) -> WebhookEvent:
    """Store a webhook call for later processing. Must stay fast: Label Studio waits for it
    inside the annotator's request, with a 1 s timeout."""
    project = payload.get("project")
    ls_project_id = project.get("id") if isinstance(project, dict) else None
    return WebhookEvent.objects.create(
        action=str(payload.get("action", ""))[:64],
        ls_project_id=ls_project_id if isinstance(ls_project_id, int) else None,
        payload=scrub_secrets(payload),
    )


def webhook_event_process(*, event_id: int) -> None:
    """Apply a stored webhook event. Runs twice safely: the first run claims the event."""
    try:
        with transaction.atomic():
            claimed = WebhookEvent.objects.filter(id=event_id, processed_at__isnull=True).update(
                processed_at=timezone.now()
            )
            if not claimed:
                return
            event = WebhookEvent.objects.get(id=event_id)
            _apply_event(event)
    except (kinds.ConfigError, KeyError, TypeError, ValueError) as exc:
        # A payload we cannot understand will not improve on retry: record it, move on.
        log.warning("webhook event %s not applied: %s", event_id, exc)
        WebhookEvent.objects.filter(id=event_id).update(
            processed_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )


def _apply_event(event: WebhookEvent) -> None:
    project = Project.objects.filter(ls_project_id=event.ls_project_id).first()
    if project is None:
        raise ValueError(f"no project has Label Studio id {event.ls_project_id}")
    payload = event.payload
    if event.action in ANNOTATION_ACTIONS:
        annotation = annotation_from_json(payload["annotation"], payload.get("task") or {})
        if _apply(project, annotation, Annotation.Source.WEBHOOK) == "created":
            _start_round_if_due(project)
    elif event.action in DELETE_ACTIONS:
        ids = [int(a["id"]) for a in payload.get("annotations", [])]
        Annotation.objects.filter(project=project, ls_annotation_id__in=ids).delete()
    else:
        raise ValueError(f"unexpected action {event.action!r}")


def _apply(project: Project, ls: LsAnnotation, source: Annotation.Source) -> str:
    """Upsert one annotation; returns created / updated / unchanged / stale / unknown_item."""
    item = _item_for(project, ls)
    if item is None:
        return "unknown_item"
    label: Any = None
    if not ls.was_cancelled:
        # Answers about a pair's shown sides map back with the item's recorded order.
        label = kinds.interface(project.kind).label_from(ls.result, sides=item.sides)
        label = list(label) if isinstance(label, tuple) else label
    fields = {
        "item": item,
        "annotator_id": Account.objects.filter(ls_user_id=ls.completed_by)
        .values_list("user_id", flat=True)
        .first(),
        "ls_user_id": ls.completed_by,
        "label": label,
        "result": ls.result,
        "lead_time": ls.lead_time,
        "was_cancelled": ls.was_cancelled,
        "ls_created_at": ls.created_at,
        "ls_updated_at": ls.updated_at,
        "source": source,
        "synced_at": timezone.now(),
    }
    existing = Annotation.objects.select_for_update().filter(project=project, ls_annotation_id=ls.id).first()
    if existing is None:
        Annotation.objects.create(project=project, ls_annotation_id=ls.id, **fields)
        return "created"
    if _older(ls.updated_at, existing.ls_updated_at):
        return "stale"
    changed = any(getattr(existing, k) != v for k, v in fields.items() if k not in ("synced_at", "source"))
    for key, value in fields.items():
        setattr(existing, key, value)
    existing.save()
    return "updated" if changed else "unchanged"


def _item_for(project: Project, ls: LsAnnotation) -> Item | None:
    item_id = ls.task_data.get("item_id")
    item = Item.objects.filter(project=project, id=item_id).first() if isinstance(item_id, int) else None
    if item is None:
        log.warning("annotation %s: task %s is not one of project %s's items", ls.id, ls.task_id, project.id)
        return None
    if item.ls_task_id is None:
        # The push reached Label Studio but its bookkeeping did not commit: adopt the task.
        item.ls_task_id, item.pushed_at = ls.task_id, timezone.now()
        item.save(update_fields=["ls_task_id", "pushed_at"])
    return item


def _start_round_if_due(project: Project) -> None:
    """Active learning may start a round every N new annotations (the project's round settings);
    the round runs once this transaction commits."""
    from workbench.rounds.services import round_auto_start_if_due

    round_auto_start_if_due(project=project)


def _older(incoming: datetime | None, stored: datetime | None) -> bool:
    return incoming is not None and stored is not None and incoming < stored


@dataclass(frozen=True)
class ReconcileReport:
    seen: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int


def annotations_reconcile(*, project: Project) -> ReconcileReport:
    """Make the project's annotations here equal to what Label Studio holds."""
    started = timezone.now()
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    chunk: list[LsAnnotation] = []
    try:
        for ls in connection.get_gateway().iter_annotations(project_id=project.ls_id()):
            seen.add(ls.id)
            chunk.append(ls)
            if len(chunk) >= RECONCILE_CHUNK:
                counts.update(_apply_chunk(project, chunk))
                chunk = []
    except LabelStudioError as exc:
        raise UpstreamUnavailable(f"Could not read annotations from Label Studio: {exc.message}") from exc
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
        unchanged=counts["unchanged"] + counts["stale"],
        deleted=len(stale),
        skipped=counts["unknown_item"],
    )


def _apply_chunk(project: Project, chunk: list[LsAnnotation]) -> Counter[str]:
    with transaction.atomic():
        return Counter(_apply(project, ls, Annotation.Source.RECONCILE) for ls in chunk)
