"""The one parser of Label Studio's JSON (annotation objects, webhook payloads) into the
workbench's types. The gateway (exports, annotation reads) and webhook processing both use it,
so an annotation means the same whichever way it arrived.

Webhook payloads are not trusted as data (anyone who can read the webhook's headers in Label
Studio can send one): from a payload the workbench only takes which annotations to re-read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from workbench.labelstudio.types import LsAnnotation, LsTaskChange

WEBHOOK_SECRET_HEADER = "X-Workbench-Webhook-Secret"
WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
# The project object in webhook payloads carries its API token and task-data credentials.
SECRET_KEYS = frozenset({"token", "task_data_login", "task_data_password"})
# Label Studio's ids are database serials; the workbench stores them in 32-bit columns.
MAX_ID = 2**31 - 1


class MalformedPayload(ValueError):
    """Label Studio JSON without something the workbench needs; the message names it."""


def ls_id(value: Any, where: str) -> int:
    """A Label Studio object id: a positive integer that fits the workbench's columns."""
    if isinstance(value, dict):  # some serializers inline the object
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{where} must be an integer id, got {_short(value)}")
    if not 0 < value <= MAX_ID:
        raise MalformedPayload(f"{where} must lie in 1..{MAX_ID}, got {value}")
    return value


def annotation_from_json(annotation: dict[str, Any], task: dict[str, Any]) -> LsAnnotation:
    """An annotation object as Label Studio serializes it, with its task. Strict: an annotation
    without an id, a task or an annotator is an error, never a default."""
    if not isinstance(annotation, dict) or not isinstance(task, dict):
        raise MalformedPayload("an annotation and its task must be JSON objects")
    annotation_id = ls_id(annotation.get("id"), "annotation.id")
    where = f"annotation {annotation_id}"
    task_ref = annotation.get("task", task.get("id"))
    project_ref = annotation.get("project", task.get("project"))
    result = annotation.get("result") or []
    data = task.get("data") or {}
    if not isinstance(result, list) or not isinstance(data, dict):
        raise MalformedPayload(f"{where}: result must be a list and the task's data an object")
    return LsAnnotation(
        id=annotation_id,
        task_id=ls_id(task_ref, f"{where}: task"),
        completed_by=ls_id(annotation.get("completed_by"), f"{where}: completed_by"),
        result=list(result),
        lead_time=_float(annotation.get("lead_time"), f"{where}: lead_time"),
        was_cancelled=bool(annotation.get("was_cancelled", False)),
        created_at=_datetime(annotation.get("created_at")),
        updated_at=_datetime(annotation.get("updated_at")),
        task_data=dict(data),
        project_id=None if project_ref is None else ls_id(project_ref, f"{where}: project"),
    )


def task_change_from_json(task: dict[str, Any]) -> LsTaskChange:
    """A task of the light listing (``include=id,data,updated_at,total_annotations,
    cancelled_annotations``)."""
    if not isinstance(task, dict):
        raise MalformedPayload("a task must be a JSON object")
    task_id = ls_id(task.get("id"), "task.id")
    updated_at = _datetime(task.get("updated_at"))
    data = task.get("data") or {}
    if updated_at is None or not isinstance(data, dict):
        raise MalformedPayload(f"task {task_id}: updated_at must be a timestamp and data an object")
    annotations = _count(task.get("total_annotations"), f"task {task_id}: total_annotations")
    annotations += _count(task.get("cancelled_annotations"), f"task {task_id}: cancelled_annotations")
    return LsTaskChange(id=task_id, data=dict(data), updated_at=updated_at, annotations=annotations)


def project_annotation_count(project: dict[str, Any]) -> int:
    """How many annotations a project object says it holds: submitted plus skipped."""
    if not isinstance(project, dict):
        raise MalformedPayload("a project must be a JSON object")
    total = _count(project.get("total_annotations_number"), "project.total_annotations_number")
    return total + _count(project.get("skipped_annotations_number"), "project.skipped_annotations_number")


def event_task_hint(payload: dict[str, Any]) -> int | None:
    """The task a webhook event says its annotation belongs to: a hint for reading that task's
    annotations from Label Studio in one request with others', never trusted as data (None when
    the payload names no valid task)."""
    annotation = payload.get("annotation")
    value = annotation.get("task") if isinstance(annotation, dict) else None
    try:
        return ls_id(value, "annotation.task")
    except MalformedPayload:
        return None


def event_annotation_ids(payload: dict[str, Any]) -> list[int]:
    """The annotations a webhook event is about: its only use of the payload's content."""
    if "annotation" in payload:
        annotation = payload["annotation"]
        if not isinstance(annotation, dict):
            raise MalformedPayload("annotation must be a JSON object")
        return [ls_id(annotation.get("id"), "annotation.id")]
    annotations = payload.get("annotations")
    if not isinstance(annotations, list) or not annotations:
        raise MalformedPayload("the event names no annotation (no annotation.id, no annotations[].id)")
    return [
        ls_id(a.get("id") if isinstance(a, dict) else a, f"annotations[{n}].id")
        for n, a in enumerate(annotations)
    ]


def event_project_id(payload: dict[str, Any]) -> int | None:
    project = payload.get("project")
    value = project.get("id") if isinstance(project, dict) else None
    try:
        return ls_id(value, "project.id")
    except MalformedPayload:
        return None


def scrub_secrets(value: Any) -> Any:
    """A copy of a payload without the secrets Label Studio puts in it (the project's token)."""
    if isinstance(value, dict):
        return {k: ("REDACTED" if k in SECRET_KEYS else scrub_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_secrets(v) for v in value]
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPayload(f"{where} must be a non-negative integer, got {_short(value)}")
    return value


def _float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedPayload(f"{where} must be a number, got {_short(value)}")
    return float(value)


def _datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
