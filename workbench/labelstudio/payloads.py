"""Label Studio's JSON shapes (webhook payloads, exports) turned into the workbench's types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from workbench.labelstudio.types import LsAnnotation

# The project object in webhook payloads carries its API token and task-data credentials.
SECRET_KEYS = frozenset({"token", "task_data_login", "task_data_password"})


def annotation_from_json(annotation: dict[str, Any], task: dict[str, Any]) -> LsAnnotation:
    """An annotation object as Label Studio serializes it, with its task."""
    completed_by = annotation.get("completed_by")
    if isinstance(completed_by, dict):  # exports inline the user
        completed_by = completed_by.get("id")
    task_id = annotation.get("task")
    if isinstance(task_id, dict):
        task_id = task_id.get("id")
    return LsAnnotation(
        id=int(annotation["id"]),
        task_id=int(task_id if task_id is not None else task["id"]),
        completed_by=int(completed_by or 0),
        result=list(annotation.get("result") or []),
        lead_time=_float(annotation.get("lead_time")),
        was_cancelled=bool(annotation.get("was_cancelled", False)),
        created_at=_datetime(annotation.get("created_at")),
        updated_at=_datetime(annotation.get("updated_at")),
        task_data=dict(task.get("data") or {}),
    )


def scrub_secrets(value: Any) -> Any:
    """A copy of a payload without the secrets Label Studio puts in it (the project's token)."""
    if isinstance(value, dict):
        return {k: ("REDACTED" if k in SECRET_KEYS else scrub_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_secrets(v) for v in value]
    return value


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None
