"""``FakeGateway``: Label Studio in memory, for fast unit tests.

It behaves like ``workbench.labelstudio.gateway.SdkGateway`` on a real server as far as the
workbench can observe; ``tests/labelstudio/test_gateway_contract.py`` runs the same tests against
both. Modelled on Label Studio 1.23's queue (``projects/functions/next_task.py``):

* a task is open until it has ``maximum_annotations`` non-cancelled annotations; a user never
  gets a task they annotated or skipped;
* ``next_task`` locks the task to the user (repeated calls return it again) and a task is not
  handed to more users than it still needs;
* with overlap, tasks other users started are served first ("breadth first");
* order: by task id, or lowest prediction score of the project's model version first.

Where Label Studio picks at random (among equally started tasks, or when no task has a
prediction of the current model version), the fake takes the first in queue order instead.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from workbench.labelstudio.types import (
    LabelStudioError,
    LsAnnotation,
    LsTask,
    LsTaskChange,
    LsUser,
    Prediction,
)

V = TypeVar("V")


@dataclass
class FakeProject:
    title: str
    label_config: str
    maximum_annotations: int
    model_version: str | None = None  # None: sequential order
    instructions: str = ""
    show_instruction: bool = False
    task_ids: list[int] = field(default_factory=list)


@dataclass
class FakeTask:
    id: int
    project_id: int
    data: dict[str, Any]
    scores: dict[str, float] = field(default_factory=dict)  # model version -> score
    locked_by: set[int] = field(default_factory=set)
    # Bumped as Label Studio bumps it: on import, data changes, and when an annotation of the
    # task is created, updated or deleted.
    updated_at: datetime = field(default_factory=lambda: _now())


@dataclass
class FakeUser:
    user: LsUser
    password: str
    token: str


@dataclass
class FakeWebhook:
    project_id: int
    url: str
    secret: str
    active: bool = True


class FakeGateway:
    """The Gateway protocol in memory. Its dicts are public so tests can look inside.

    Simulated annotators call it from one thread each, as they call Label Studio: taking a task
    and submitting an answer hold a lock (Label Studio serializes them in its database), and the
    listings read a snapshot."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.projects: dict[int, FakeProject] = {}
        self.tasks: dict[int, FakeTask] = {}
        self.annotations: dict[int, LsAnnotation] = {}
        self.users: dict[str, FakeUser] = {}  # by lower-cased email
        self.webhooks: dict[int, FakeWebhook] = {}
        # One counter per kind, like Label Studio's tables.
        self._ids = {kind: itertools.count(1) for kind in ("project", "task", "annotation", "webhook")}
        self._user_ids = itertools.count(2)  # 1 is the admin who owns the API key
        self._last_tick = _now()
        # What reconciliation read, for tests of incrementality.
        self.changed_listings = 0
        self.annotation_reads = 0
        self.full_exports = 0

    # --- projects and webhooks --------------------------------------------------------

    def create_project(self, *, title: str, label_config: str, maximum_annotations: int) -> int:
        project_id = next(self._ids["project"])
        self.projects[project_id] = FakeProject(title, label_config, maximum_annotations)
        return project_id

    def delete_project(self, *, project_id: int) -> None:
        project = self.projects.pop(project_id, None)
        if project is None:
            return
        for task_id in project.task_ids:
            del self.tasks[task_id]
        self.annotations = {k: a for k, a in self.annotations.items() if a.task_id in self.tasks}
        self.webhooks = {k: w for k, w in self.webhooks.items() if w.project_id != project_id}

    def register_webhook(self, *, project_id: int, url: str, secret: str) -> int:
        self._project(project_id)
        webhook_id = next(self._ids["webhook"])
        self.webhooks[webhook_id] = FakeWebhook(project_id, url, secret)
        return webhook_id

    def set_webhook_active(self, *, webhook_id: int, active: bool) -> None:
        self._get(self.webhooks, webhook_id, "webhook").active = active

    def set_instructions(self, *, project_id: int, html: str) -> None:
        project = self._project(project_id)
        project.instructions, project.show_instruction = html, True

    def set_queue_order(self, *, project_id: int, model_version: str | None) -> None:
        project = self._project(project_id)
        if model_version is not None and not any(
            model_version in self.tasks[t].scores for t in project.task_ids
        ):
            raise _refused(400, "Model version doesn't exist either as live model or as static predictions.")
        project.model_version = model_version

    # --- tasks, predictions, annotations ----------------------------------------------

    def import_tasks(self, *, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        project = self._project(project_id)
        ids = [next(self._ids["task"]) for _ in tasks]
        for task_id, data in zip(ids, tasks, strict=True):
            self.tasks[task_id] = FakeTask(task_id, project_id, dict(data), updated_at=self._tick())
        project.task_ids.extend(ids)
        return ids

    def create_predictions(
        self, *, project_id: int, predictions: Sequence[Prediction], model_version: str
    ) -> None:
        self._project(project_id)
        for prediction in predictions:
            task = self._get(self.tasks, prediction.task_id, "task")
            # Label Studio 1.23 answers 201 but silently drops a prediction scored outside [0, 1].
            if 0 <= prediction.score <= 1:
                task.scores[model_version] = prediction.score

    def iter_annotations(self, *, project_id: int) -> Iterator[LsAnnotation]:
        self.full_exports += 1
        with self._lock:
            snapshot = [
                replace(annotation, task_data=dict(self.tasks[task_id].data), project_id=project_id)
                for task_id in list(self._project(project_id).task_ids)
                for annotation in self._annotations_of(task_id)
            ]
        yield from snapshot

    def get_annotation(self, *, annotation_id: int) -> LsAnnotation | None:
        annotation = self.annotations.get(annotation_id)
        if annotation is None:
            return None
        task = self.tasks[annotation.task_id]
        return replace(annotation, task_data=dict(task.data), project_id=task.project_id)

    def iter_tasks(self, *, project_id: int) -> Iterator[LsTask]:
        with self._lock:
            snapshot = [
                LsTask(id=task_id, data=dict(self.tasks[task_id].data))
                for task_id in sorted(self._project(project_id).task_ids)
            ]
        yield from snapshot

    def iter_changed_tasks(self, *, project_id: int, since: datetime) -> Iterator[LsTaskChange]:
        with self._lock:
            snapshot = [
                LsTaskChange(
                    id=task.id,
                    data=dict(task.data),
                    updated_at=task.updated_at,
                    annotations=len(self._annotations_of(task.id)),
                )
                for task in (self.tasks[t] for t in sorted(self._project(project_id).task_ids))
                if task.updated_at > since
            ]
        self.changed_listings += 1
        yield from snapshot

    def change_mark(self, *, project_id: int) -> datetime | None:
        self._project(project_id)
        return max(_now(), self._last_tick)  # every later change gets a later tick

    def iter_task_annotations(self, *, project_id: int, task_ids: Sequence[int]) -> Iterator[LsAnnotation]:
        own = set(self._project(project_id).task_ids)
        with self._lock:
            snapshot = [
                replace(annotation, task_data=dict(self.tasks[task_id].data), project_id=project_id)
                for task_id in sorted(set(task_ids) & own)
                for annotation in self._annotations_of(task_id)
            ]
        self.annotation_reads += len(snapshot)
        yield from snapshot

    def count_annotations(self, *, project_id: int) -> int:
        own = set(self._project(project_id).task_ids)
        return sum(a.task_id in own for a in self.annotations.values())

    def update_task_data(self, *, tasks: Sequence[LsTask]) -> None:
        for task in tasks:
            stored = self._get(self.tasks, task.id, "task")
            stored.data, stored.updated_at = dict(task.data), self._tick()

    def update_annotation(self, *, annotation_id: int, result: list[dict[str, Any]]) -> None:
        annotation = self._get(self.annotations, annotation_id, "annotation")
        self.annotations[annotation_id] = replace(annotation, result=list(result), updated_at=_now())
        self.tasks[annotation.task_id].updated_at = self._tick()

    def delete_annotation(self, *, annotation_id: int) -> None:
        annotation = self.annotations.pop(annotation_id, None)
        if annotation is not None and annotation.task_id in self.tasks:
            self.tasks[annotation.task_id].updated_at = self._tick()

    def delete_task(self, *, task_id: int) -> None:
        """What deleting a task in Label Studio's Data Manager does (not part of the Gateway
        protocol): the task and its annotations go, and no other task is touched."""
        task = self.tasks.pop(task_id)
        self.projects[task.project_id].task_ids.remove(task_id)
        self.annotations = {k: a for k, a in self.annotations.items() if a.task_id != task_id}

    def _tick(self) -> datetime:
        """A strictly later time than any stamp so far (Label Studio's microseconds never tie in
        practice; a fast test's clock may)."""
        now = _now()
        self._last_tick = max(now, self._last_tick + timedelta(microseconds=1))
        return self._last_tick

    # --- users and what they do -------------------------------------------------------

    def create_user(self, *, email: str, password: str, first_name: str, last_name: str) -> LsUser:
        existing = self.users.get(email.lower())
        if existing is not None:  # a retried call, as the real gateway allows
            self._check_password(existing, password)
            return existing.user
        user = LsUser(id=next(self._user_ids), email=email.lower())
        self.users[user.email] = FakeUser(user, password, token=f"token-{user.id}")
        return user

    def user_token(self, *, email: str, password: str) -> str:
        account = self.users.get(email.lower())
        if account is None:
            raise _refused(401, "login refused")
        self._check_password(account, password)
        return account.token

    def next_task(self, *, project_id: int, user_token: str) -> LsTask | None:
        with self._lock:
            user_id = self._user_id(user_token)
            project = self._project(project_id)
            open_tasks = [t for t in self._queue(project) if not self._done_for(t, user_id)]
            task = next((t for t in open_tasks if user_id in t.locked_by), None)
            if task is None:
                candidates = [t for t in open_tasks if self._has_room(t, user_id, project)]
                task = next(iter(self._breadth_first(candidates, user_id) or candidates), None)
            if task is None:
                return None
            task.locked_by.add(user_id)
            return LsTask(id=task.id, data=dict(task.data))

    def submit_annotation(
        self,
        *,
        task_id: int,
        result: list[dict[str, Any]],
        lead_time: float,
        user_token: str,
    ) -> LsAnnotation:
        return self._annotate(task_id, result, lead_time, user_token, cancelled=False)

    def skip_task(self, *, task_id: int, user_token: str) -> LsAnnotation:
        """What the labeling UI's Skip button does (not part of the Gateway protocol)."""
        return self._annotate(task_id, [], 0.0, user_token, cancelled=True)

    def _annotate(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        lead_time: float,
        user_token: str,
        *,
        cancelled: bool,
    ) -> LsAnnotation:
        with self._lock:
            user_id = self._user_id(user_token)
            task = self._get(self.tasks, task_id, "task")
            now = _now()
            annotation = LsAnnotation(
                id=next(self._ids["annotation"]),
                task_id=task_id,
                completed_by=user_id,
                result=list(result),
                lead_time=lead_time,
                was_cancelled=cancelled,
                created_at=now,
                updated_at=now,
            )
            self.annotations[annotation.id] = annotation
            task.updated_at = self._tick()
            task.locked_by.discard(user_id)  # Label Studio releases the lock on submit
            return annotation

    # --- queue rules ------------------------------------------------------------------

    def _queue(self, project: FakeProject) -> list[FakeTask]:
        """The project's tasks in serving order."""
        tasks = sorted((self.tasks[t] for t in project.task_ids), key=lambda t: t.id)
        version = project.model_version
        if version is None:
            return tasks
        predicted = sorted((t for t in tasks if version in t.scores), key=lambda t: t.scores[version])
        # Tasks without a prediction of the version come after the predicted ones; Label Studio
        # picks among them at random, we keep id order.
        return predicted + [t for t in tasks if version not in t.scores]

    def _done_for(self, task: FakeTask, user_id: int) -> bool:
        """Labeled by enough people, or already annotated or skipped by this user."""
        annotations = self._annotations_of(task.id)
        finished = sum(not a.was_cancelled for a in annotations)
        maximum = self.projects[task.project_id].maximum_annotations
        return finished >= maximum or any(a.completed_by == user_id for a in annotations)

    def _has_room(self, task: FakeTask, user_id: int, project: FakeProject) -> bool:
        """Fewer people hold or finished it than it needs (others' skips don't count)."""
        others = task.locked_by - {user_id}
        taken = sum(not a.was_cancelled for a in self._annotations_of(task.id))
        return len(others) + taken < project.maximum_annotations

    def _breadth_first(self, candidates: list[FakeTask], user_id: int) -> list[FakeTask]:
        """With overlap, the candidates most annotated by others (skips included, as in Label
        Studio); empty when nobody else started any."""
        if not candidates or self.projects[candidates[0].project_id].maximum_annotations <= 1:
            return []

        def started(task: FakeTask) -> int:
            return sum(a.completed_by != user_id for a in self._annotations_of(task.id))

        most = max(started(t) for t in candidates)
        return [t for t in candidates if started(t) == most] if most else []

    def _annotations_of(self, task_id: int) -> list[LsAnnotation]:
        return sorted((a for a in self.annotations.values() if a.task_id == task_id), key=lambda a: a.id)

    # --- lookups ----------------------------------------------------------------------

    def _project(self, project_id: int) -> FakeProject:
        return self._get(self.projects, project_id, "project")

    def _user_id(self, token: str) -> int:
        for account in self.users.values():
            if account.token == token:
                return account.user.id
        raise _refused(401, "Invalid token.")

    @staticmethod
    def _check_password(account: FakeUser, password: str) -> None:
        if account.password != password:
            raise _refused(401, "login refused: The email and password you entered don't match.")

    @staticmethod
    def _get(table: dict[int, V], key: int, kind: str) -> V:
        if key not in table:
            raise _refused(404, f"{kind} {key} not found")
        return table[key]


def _refused(status: int, message: str) -> LabelStudioError:
    return LabelStudioError(message, permanent=True, status=status)


def _now() -> datetime:
    return datetime.now(UTC)
