"""What the workbench knows of Label Studio: plain dataclasses and one error type.

The gateway (``gateway.py``) is the only module that imports ``label_studio_sdk``; it converts
SDK objects into these so the rest of the workbench never sees an SDK type, and an SDK major
version touches one file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# Label Studio refuses a project title outside 3..50 characters (PROJECT_TITLE_MIN_LEN /
# PROJECT_TITLE_MAX_LEN in label_studio/core/settings/base.py, 1.23.2).
PROJECT_TITLE_MIN_CHARS = 3
PROJECT_TITLE_MAX_CHARS = 50


class LabelStudioError(Exception):
    """A Label Studio call failed.

    ``permanent`` tells a Celery task whether retrying can help: a refused request (4xx) is
    permanent, a timeout or 5xx is not.
    """

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status


@dataclass(frozen=True)
class LsUser:
    id: int
    email: str


@dataclass(frozen=True)
class LsTask:
    id: int
    data: dict[str, Any]


@dataclass(frozen=True)
class LsTaskChange:
    """A task as the light task listing shows it: what reconciliation needs to tell which
    tasks changed (Label Studio bumps ``updated_at`` when an annotation of the task is created,
    updated or deleted, and when its data changes) and whether they still have annotations."""

    id: int
    data: dict[str, Any]
    updated_at: datetime
    annotations: int  # cancelled (skipped) ones included


@dataclass(frozen=True)
class LsAnnotation:
    id: int
    task_id: int
    completed_by: int  # Label Studio user id
    result: list[dict[str, Any]]
    lead_time: float | None
    was_cancelled: bool
    created_at: datetime | None
    updated_at: datetime | None
    # The task's data as Label Studio holds it; carries the workbench's ``item_id``, which is
    # what annotations are matched on (task ids are reused on SQLite after deletions).
    task_data: dict[str, Any] = field(default_factory=dict)
    # The Label Studio project the annotation belongs to, when Label Studio said so.
    project_id: int | None = None


@dataclass(frozen=True)
class Prediction:
    task_id: int
    score: float
    result: list[dict[str, Any]] = field(default_factory=list)


class Gateway(Protocol):
    """Everything the workbench asks of Label Studio. Implemented by ``gateway.SdkGateway``
    (the real server) and ``tests.fakes.FakeGateway`` (in memory, for fast unit tests)."""

    def create_project(self, *, title: str, label_config: str, maximum_annotations: int) -> int: ...

    def delete_project(self, *, project_id: int) -> None: ...

    def set_instructions(self, *, project_id: int, html: str) -> None:
        """What annotators see as the project's instructions (HTML), before labeling and from
        every task."""
        ...

    def register_webhook(self, *, project_id: int, url: str, secret: str) -> int: ...

    def set_webhook_active(self, *, webhook_id: int, active: bool) -> None: ...

    def import_tasks(self, *, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        """Create one task per data dict, in order; returns the new task ids in the same order."""
        ...

    def create_predictions(
        self, *, project_id: int, predictions: Sequence[Prediction], model_version: str
    ) -> None:
        """Attach one prediction per task, tagged ``model_version`` (sent in batches)."""
        ...

    def set_queue_order(self, *, project_id: int, model_version: str | None) -> None:
        """How the queue orders open tasks: lowest ``Prediction.score`` of ``model_version``
        first (only tasks with such a prediction are served), or by task id when None."""
        ...

    def iter_annotations(self, *, project_id: int) -> Iterator[LsAnnotation]:
        """Every annotation Label Studio holds for the project (cancelled/skipped ones included,
        flagged ``was_cancelled``)."""
        ...

    def get_annotation(self, *, annotation_id: int) -> LsAnnotation | None:
        """The annotation as Label Studio holds it now, with its task's data and its project,
        or None when Label Studio has no such annotation."""
        ...

    def iter_tasks(self, *, project_id: int) -> Iterator[LsTask]:
        """Every task of the project (id and data), in id order."""
        ...

    def iter_changed_tasks(self, *, project_id: int, since: datetime) -> Iterator[LsTaskChange]:
        """The tasks whose ``updated_at`` is later than ``since``, in id order."""
        ...

    def change_mark(self, *, project_id: int) -> datetime | None:
        """A time on Label Studio's clock no later than now: every task changed from now on
        gets a later ``updated_at`` (None: nothing to go by yet)."""
        ...

    def iter_task_annotations(self, *, project_id: int, task_ids: Sequence[int]) -> Iterator[LsAnnotation]:
        """Every annotation of these tasks of the project (cancelled ones flagged), each with its
        task's data; ids of other projects' tasks, or of tasks without annotations, add nothing."""
        ...

    def count_annotations(self, *, project_id: int) -> int:
        """How many annotations the project holds, cancelled (skipped) ones included."""
        ...

    def update_task_data(self, *, tasks: Sequence[LsTask]) -> None:
        """Replace the data of each given task (by id) with its ``data``."""
        ...

    def create_user(self, *, email: str, password: str, first_name: str, last_name: str) -> LsUser:
        """A user who can log in with this password and sees the organisation's projects."""
        ...

    def user_token(self, *, email: str, password: str) -> str: ...

    def next_task(self, *, project_id: int, user_token: str) -> LsTask | None:
        """The task Label Studio's queue serves this user next, or None when the queue is empty."""
        ...

    def submit_annotation(
        self,
        *,
        task_id: int,
        result: list[dict[str, Any]],
        lead_time: float,
        user_token: str,
    ) -> LsAnnotation: ...

    def update_annotation(self, *, annotation_id: int, result: list[dict[str, Any]]) -> None: ...

    def delete_annotation(self, *, annotation_id: int) -> None: ...
