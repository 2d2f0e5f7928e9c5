"""``SdkGateway``: the workbench's Gateway over a real Label Studio (1.23, Community edition).

The only module that imports ``label_studio_sdk``. Admin work goes through the SDK with the
workbench's API token; what an annotator does (sign up, log in, ask for the next task, submit)
goes over plain HTTP the way the browser does it, so it works against any server, local or remote.

Verified against Label Studio 1.23.2 / SDK 2.1.2 (see tests/labelstudio/test_gateway_contract.py):

* ``users.create`` cannot set a password and leaves the user without an active organisation.
  The organisation's invite link (``GET /api/invite``) plus the browser's sign-up form does
  both, and the server then also accepts ``DISABLE_SIGNUP_WITHOUT_LINK``.
* A user's API token is on ``GET /api/current-user/token`` once logged in through the login
  form. Tokens are Label Studio's legacy ones: the organisation must allow them
  (``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN`` on the server's first start, or the JWT settings page).
* ``GET /api/projects/{id}/next/`` answers 404 "There are no tasks for ..." when the queue is done.
* The JSON export returns every task with at least one annotation, cancelled ones included,
  with the task's data: one request instead of listing the project's tasks.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import islice
from typing import Any, TypeVar

import httpx
import orjson
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import PredictionRequest

from workbench.labelstudio.payloads import (
    WEBHOOK_ACTIONS,
    WEBHOOK_SECRET_HEADER,
    MalformedPayload,
    annotation_from_json,
    project_annotation_count,
    task_change_from_json,
)
from workbench.labelstudio.types import (
    LabelStudioError,
    LsAnnotation,
    LsTask,
    LsTaskChange,
    LsUser,
    Prediction,
)

SEQUENTIAL = "Sequential sampling"
UNCERTAINTY = "Uncertainty sampling"
# Comfortably below Label Studio's 250k tasks / 200 MB per request, and small enough that one
# failed batch is cheap to retry.
BATCH_SIZE = 1000
# Imports: each request has a fixed cost on Label Studio's side (project counters, summary), so
# 1,000-task requests took ~1.5x as long as one 10,000-task request for the same tasks
# (bench/push_items.py); 10,000 tasks are ~2 MB, far below the limit, and a retried batch ~4 s.
IMPORT_BATCH_SIZE = 10_000
# Task ids per export request (query string ~8 KB; Label Studio reads them in 1,000s).
EXPORT_IDS = 500
# What reconciliation reads of each task in the light listing.
_CHANGE_FIELDS = "id,data,updated_at,total_annotations,cancelled_annotations"
_NO_MORE_TASKS = "There are no tasks"
# Errors a retry can cure even though they are 4xx.
_TRANSIENT_STATUSES = frozenset({408, 429})
_FORM_ERROR = re.compile(r'<ul class="field_errors">(.*?)</ul>', re.S)
_LIST_ITEM = re.compile(r"<li>\s*(.*?)\s*</li>", re.S)

T = TypeVar("T")


class SdkGateway:
    """The Gateway protocol (``workbench.labelstudio.types.Gateway``) over Label Studio's API."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 60.0) -> None:
        self._base_url = base_url.rstrip("/")
        # No silent retries: the SDK would re-send a POST /import after a 5xx and duplicate
        # tasks. Callers (Celery tasks) own the retry policy, guided by ``permanent``.
        # No keep-alive: a gateway lives as long as the process that caches it, often longer
        # than the local server it talks to; after a restart a pooled connection fails with
        # "Server disconnected without sending a response", unsafe to retry for a POST. A fresh
        # loopback connection per request costs ~1 ms.
        limits = httpx.Limits(max_keepalive_connections=0)
        self._sdk_http = httpx.Client(timeout=timeout, limits=limits)
        self._sdk = LabelStudio(  # type: ignore[no-untyped-call]  # its __init__ takes **kwargs
            base_url=self._base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=0,
            httpx_client=self._sdk_http,
        )
        self._http = httpx.Client(base_url=self._base_url, timeout=timeout, limits=limits)

    def close(self) -> None:
        self._http.close()
        self._sdk_http.close()

    # --- projects ---------------------------------------------------------------------

    def create_project(self, *, title: str, label_config: str, maximum_annotations: int) -> int:
        with _translated_errors("create project"):
            project = self._sdk.projects.create(
                title=title,
                label_config=label_config,
                maximum_annotations=maximum_annotations,
                sampling=SEQUENTIAL,
            )
        return _id(project.id)

    def delete_project(self, *, project_id: int) -> None:
        """Idempotent, like every delete here: a retried call finds it already gone."""
        with _gone_is_fine(), _translated_errors("delete project"):
            self._sdk.projects.delete(id=project_id)

    def set_queue_order(self, *, project_id: int, model_version: str | None) -> None:
        """Serve lowest prediction ``score`` first among tasks predicted by ``model_version``,
        or by task id (import order) with None. Label Studio then only serves tasks that have
        a prediction of that version, so predict every open task before switching."""
        with _translated_errors("set queue order"):
            if model_version is None:
                self._sdk.projects.update(id=project_id, sampling=SEQUENTIAL)
            else:
                self._sdk.projects.update(id=project_id, sampling=UNCERTAINTY, model_version=model_version)

    def set_instructions(self, *, project_id: int, html: str) -> None:
        """The project's labeling instructions (Label Studio's ``expert_instruction``, HTML),
        shown before labeling and reachable from every task (``show_instruction``)."""
        with _translated_errors("set instructions"):
            self._sdk.projects.update(id=project_id, expert_instruction=html, show_instruction=True)

    # --- webhooks ---------------------------------------------------------------------

    def register_webhook(self, *, project_id: int, url: str, secret: str) -> int:
        with _translated_errors("register webhook"):
            webhook = self._sdk.webhooks.create(
                url=url,
                project=project_id,
                actions=list(WEBHOOK_ACTIONS),
                send_for_all_actions=False,
                send_payload=True,
                headers={WEBHOOK_SECRET_HEADER: secret},
                is_active=True,
            )
        return _id(webhook.id)

    def set_webhook_active(self, *, webhook_id: int, active: bool) -> None:
        with _translated_errors("update webhook"):
            self._sdk.webhooks.update(id=webhook_id, is_active=active)

    # --- tasks, predictions, annotations ----------------------------------------------

    def import_tasks(self, *, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        """Create one task per data dict, in order; returns the new task ids in the same order.

        Not idempotent: a batch retried after a timeout may exist twice, which is why the
        workbench matches tasks on the ``item_id`` in their data, never on order alone.

        The request the SDK's ``projects.import_tasks`` sends, with the body encoded by orjson:
        the SDK's own encoder walks every value in Python (~0.5 s per 10,000 tasks here)."""
        task_ids: list[int] = []
        for batch in _batches(tasks, IMPORT_BATCH_SIZE):
            # Wrapped in {"data": ...}: in the flat form, an item with its own "data" field
            # would be taken for a task envelope.
            body = orjson.dumps([{"data": task} for task in batch])
            response = self._admin_post(
                f"/api/projects/{project_id}/import",
                "import tasks",
                content=body,
                params={"return_task_ids": "true"},
            )
            # The Community edition sends the ids when asked (return_task_ids), in request order.
            created = list(response.get("task_ids") or [])
            if len(created) != len(batch):
                raise LabelStudioError(
                    f"import tasks: sent {len(batch)}, Label Studio reported {len(created)} ids",
                    permanent=False,
                )
            task_ids.extend(_id(task_id) for task_id in created)
        return task_ids

    def create_predictions(
        self, *, project_id: int, predictions: Sequence[Prediction], model_version: str
    ) -> None:
        for batch in _batches(predictions, BATCH_SIZE):
            request = [
                PredictionRequest(task=p.task_id, score=p.score, result=p.result, model_version=model_version)
                for p in batch
            ]
            with _translated_errors("import predictions"):
                self._sdk.projects.import_predictions(id=project_id, request=request)

    def iter_annotations(self, *, project_id: int) -> Iterator[LsAnnotation]:
        """Every annotation of the project, cancelled (skipped) ones flagged, each with its
        task's data. One export request: only tasks with annotations are serialised."""
        with _translated_errors("export annotations"):
            body = b"".join(self._sdk.projects.exports.download_sync(id=project_id, export_type="JSON"))
        tasks = json.loads(body)
        for task in tasks:
            for annotation in task.get("annotations", []):
                yield _annotation(annotation, task)

    def get_annotation(self, *, annotation_id: int) -> LsAnnotation | None:
        """Two reads with the workbench's own token: the annotation, then its task (for the
        task's data, which names the item). None when either is gone."""
        raw = self._admin_get(f"/api/annotations/{annotation_id}/", "get annotation")
        if raw is None:
            return None
        task_id = raw.get("task")
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise LabelStudioError(f"annotation {annotation_id} has no task id", permanent=True)
        task = self._admin_get(f"/api/tasks/{task_id}/", "get task")
        return None if task is None else _annotation(raw, task)

    def iter_tasks(self, *, project_id: int) -> Iterator[LsTask]:
        """Pages of ``BATCH_SIZE`` tasks without their annotations; Label Studio answers 404
        "Invalid page" past the last one."""
        page = 1
        while True:
            body = self._admin_get(
                "/api/tasks/",
                "list tasks",
                params={"project": project_id, "page": page, "page_size": BATCH_SIZE, "fields": "task_only"},
            )
            tasks = [] if body is None else body.get("tasks") or []
            for task in tasks:
                yield LsTask(id=_id(task.get("id")), data=dict(task.get("data") or {}))
            if len(tasks) < BATCH_SIZE:
                return
            page += 1

    def iter_changed_tasks(self, *, project_id: int, since: datetime) -> Iterator[LsTaskChange]:
        """Pages of the light task listing (id, data, ``updated_at``, annotation counts), filtered
        by Label Studio on ``updated_at > since``. Paged by id (``id > last``), not by page
        number, so a task that changes or goes away meanwhile cannot shift a page past another."""
        last = 0
        while True:
            query = {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        _filter("updated_at", "greater", "Datetime", _dm_datetime(since)),
                        _filter("id", "greater", "Number", last),
                    ],
                },
                "ordering": ["tasks:id"],
            }
            tasks = self._task_page(project_id, query, BATCH_SIZE, _CHANGE_FIELDS)
            for task in tasks:
                change = _parsed(task_change_from_json, task)
                last = max(last, change.id)
                yield change
            if len(tasks) < BATCH_SIZE:
                return

    def change_mark(self, *, project_id: int) -> datetime | None:
        """Label Studio's clock now, from the ``Date`` header of a task-list request (whole
        seconds, rounded down: never later than the truth), or the newest task ``updated_at``
        when no ``Date`` header comes back; None for a project without tasks and no header."""
        headers = self._sdk._client_wrapper.get_headers()
        query = json.dumps({"ordering": ["-tasks:updated_at"]})
        params: dict[str, Any] = {
            "project": project_id,
            "page": 1,
            "page_size": 1,
            "include": _CHANGE_FIELDS,
            "query": query,
        }
        with _translated_errors("GET /api/tasks/"):
            response = self._http.get("/api/tasks/", headers=headers, params=params)
        if response.status_code == 404:  # "Invalid page": no tasks
            tasks: list[Any] = []
        else:
            tasks = _json(response, "list tasks").get("tasks") or []
        if date := response.headers.get("Date"):
            with contextlib.suppress(TypeError, ValueError):
                return parsedate_to_datetime(date)
        return _parsed(task_change_from_json, tasks[0]).updated_at if tasks else None

    def iter_task_annotations(self, *, project_id: int, task_ids: Sequence[int]) -> Iterator[LsAnnotation]:
        """The JSON export restricted to these tasks (``ids[]``; the SDK's ``download_sync``
        sends ``ids``, which Label Studio ignores), ``EXPORT_IDS`` tasks per request."""
        for batch in _batches(sorted(set(task_ids)), EXPORT_IDS):
            body = self._admin_get_raw(
                f"/api/projects/{project_id}/export",
                "export annotations",
                params={"exportType": "JSON", "ids[]": batch},
            )
            if not isinstance(body, list):
                raise LabelStudioError(
                    f"export annotations: unexpected answer {_short(body)}", permanent=True
                )
            for task in body:
                for annotation in task.get("annotations", []):
                    yield _annotation(annotation, task)

    def count_annotations(self, *, project_id: int) -> int:
        body = self._admin_get(f"/api/projects/{project_id}/", "count annotations")
        if body is None:
            raise LabelStudioError(
                f"count annotations: project {project_id} not found", permanent=True, status=404
            )
        return _parsed(project_annotation_count, body)

    def _task_page(
        self, project_id: int, query: dict[str, Any], size: int, include: str
    ) -> list[dict[str, Any]]:
        body = self._admin_get(
            "/api/tasks/",
            "list tasks",
            params={
                "project": project_id,
                "page": 1,
                "page_size": size,
                "include": include,
                "query": json.dumps(query),
            },
        )
        tasks = [] if body is None else body.get("tasks") or []
        if not isinstance(tasks, list):
            raise LabelStudioError(f"list tasks: unexpected answer {_short(body)}", permanent=True)
        return tasks

    def update_task_data(self, *, tasks: Sequence[LsTask]) -> None:
        """Replace each task's data (Label Studio has no bulk update of task data: one PATCH
        per task, in batches so a failure names how far it got)."""
        done = 0
        for batch in _batches(tasks, BATCH_SIZE):
            for task in batch:
                with _translated_errors(f"update task {task.id} (after {done} updated)"):
                    self._sdk.tasks.update(id=str(task.id), data=dict(task.data))
                done += 1

    def update_annotation(self, *, annotation_id: int, result: list[dict[str, Any]]) -> None:
        with _translated_errors("update annotation"):
            self._sdk.annotations.update(id=annotation_id, result=result)

    def delete_annotation(self, *, annotation_id: int) -> None:
        with _gone_is_fine(), _translated_errors("delete annotation"):
            self._sdk.annotations.delete(id=annotation_id)

    # --- users and what they do -------------------------------------------------------

    def create_user(self, *, email: str, password: str, first_name: str, last_name: str) -> LsUser:
        """Sign the user up through the organisation's invite link, as a person would.

        Idempotent for a retried call: an existing user whose password matches is returned."""
        with _translated_errors("get invite link"):
            invite_url = self._sdk.organizations.invites.get_invite_link().invite_url
        if not invite_url:
            raise LabelStudioError("Label Studio returned no invite link", permanent=True)
        with self._browser() as browser:
            errors = _submit_form(browser, invite_url, {"email": email, "password": password})
            if not errors:  # signed up, and logged in by the sign-up itself
                user_id = self._current_user_id(browser)
            elif any("already exists" in error for error in errors):
                user_id = None
            else:
                raise LabelStudioError(f"sign-up refused: {'; '.join(errors)}", permanent=True, status=400)
        if user_id is None:  # only the right password may claim an existing user
            with self._logged_in(email, password) as browser:
                user_id = self._current_user_id(browser)
        with _translated_errors("set user name"):
            self._sdk.users.update(id=user_id, first_name=first_name, last_name=last_name)
        return LsUser(id=user_id, email=email.lower())

    def user_token(self, *, email: str, password: str) -> str:
        """The user's API token, knowing only what the user knows; works on a remote server."""
        with self._logged_in(email, password) as browser, _translated_errors("get user token"):
            response = browser.get("/api/current-user/token")
        return str(_json(response, "get user token")["token"])

    def next_task(self, *, project_id: int, user_token: str) -> LsTask | None:
        """What "Label All Tasks" would show this user next. Locks the task to the user for
        24 h (Label Studio has no API to release it), so call it only to label."""
        response = self._as_user("get", f"/api/projects/{project_id}/next/", user_token)
        if response.status_code == 404 and _NO_MORE_TASKS in response.text:
            return None
        task = _json(response, "next task")
        return LsTask(id=_id(task["id"]), data=dict(task["data"]))

    def submit_annotation(
        self,
        *,
        task_id: int,
        result: list[dict[str, Any]],
        lead_time: float,
        user_token: str,
    ) -> LsAnnotation:
        """Submit as the user, with the request the labeling UI sends."""
        response = self._as_user(
            "post",
            f"/api/tasks/{task_id}/annotations/",
            user_token,
            json={"result": result, "lead_time": lead_time, "was_cancelled": False},
        )
        annotation = _json(response, "submit annotation")
        return _annotation(annotation, {"id": task_id})

    # --- plumbing ---------------------------------------------------------------------

    def _admin_get(self, path: str, action: str, **kwargs: Any) -> dict[str, Any] | None:
        """GET the raw JSON (what the one parser reads) with the workbench's own credentials,
        as the SDK sends them (a legacy token, or a personal access token it exchanges);
        None on 404."""
        headers = self._sdk._client_wrapper.get_headers()
        with _translated_errors(f"GET {path}"):
            response = self._http.get(path, headers=headers, **kwargs)
        if response.status_code == 404:
            return None
        return _json(response, action)

    def _admin_get_raw(self, path: str, action: str, **kwargs: Any) -> Any:
        """GET any JSON value (an export is a list) with the workbench's own credentials."""
        headers = self._sdk._client_wrapper.get_headers()
        with _translated_errors(f"GET {path}"):
            response = self._http.get(path, headers=headers, **kwargs)
        _raise_for_status(response, action)
        return orjson.loads(response.content)

    def _admin_post(self, path: str, action: str, *, content: bytes, **kwargs: Any) -> dict[str, Any]:
        """POST a JSON body (already encoded) with the workbench's own credentials."""
        headers = {**self._sdk._client_wrapper.get_headers(), "Content-Type": "application/json"}
        with _translated_errors(f"POST {path}"):
            response = self._http.post(path, headers=headers, content=content, **kwargs)
        return _json(response, action)

    def _as_user(self, method: str, path: str, user_token: str, **kwargs: Any) -> httpx.Response:
        with _translated_errors(f"{method.upper()} {path}"):
            return self._http.request(
                method, path, headers={"Authorization": f"Token {user_token}"}, **kwargs
            )

    @staticmethod
    def _current_user_id(browser: httpx.Client) -> int:
        with _translated_errors("whoami"):
            response = browser.get("/api/current-user/whoami")
        return _id(_json(response, "whoami")["id"])

    @contextlib.contextmanager
    def _browser(self) -> Iterator[httpx.Client]:
        """A fresh cookie jar, like a private browser window."""
        with httpx.Client(base_url=self._base_url, timeout=self._http.timeout) as browser:
            yield browser

    @contextlib.contextmanager
    def _logged_in(self, email: str, password: str) -> Iterator[httpx.Client]:
        with self._browser() as browser:
            errors = _submit_form(browser, "/user/login/", {"email": email, "password": password})
            if errors:
                raise LabelStudioError(f"login refused: {'; '.join(errors)}", permanent=True, status=401)
            yield browser


# --- helpers --------------------------------------------------------------------------


def _submit_form(browser: httpx.Client, path: str, fields: dict[str, str]) -> list[str]:
    """Post one of Label Studio's Django forms with its CSRF token; returns the form's error
    messages, empty when it was accepted (Label Studio then redirects)."""
    with _translated_errors(f"GET {path}"):
        page = browser.get(path)
    _raise_for_status(page, f"GET {path}")
    csrf = browser.cookies.get("csrftoken")
    if csrf is None:
        raise LabelStudioError(f"{path} set no CSRF cookie", permanent=True)
    with _translated_errors(f"POST {path}"):
        response = browser.post(path, data={**fields, "csrfmiddlewaretoken": csrf})
    if response.is_redirect:
        return []
    _raise_for_status(response, f"POST {path}")
    errors = [
        html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
        for block in _FORM_ERROR.findall(response.text)
        for item in _LIST_ITEM.findall(block)
    ]
    return errors or ["the form was not accepted"]


@contextlib.contextmanager
def _translated_errors(action: str) -> Iterator[None]:
    """SDK and transport errors as LabelStudioError, ``permanent`` when a retry cannot help."""
    try:
        yield
    except ApiError as exc:
        status = exc.status_code
        raise LabelStudioError(
            f"{action}: Label Studio answered {status}: {_short(exc.body)}",
            permanent=_is_permanent(status),
            status=status,
        ) from exc
    except httpx.TransportError as exc:  # connection refused, timeouts, protocol errors
        raise LabelStudioError(f"{action}: {exc!r}", permanent=False) from exc


@contextlib.contextmanager
def _gone_is_fine() -> Iterator[None]:
    try:
        yield
    except LabelStudioError as exc:
        if exc.status != 404:
            raise


def _is_permanent(status: int | None) -> bool:
    return status is not None and 400 <= status < 500 and status not in _TRANSIENT_STATUSES


def _raise_for_status(response: httpx.Response, action: str) -> None:
    if response.status_code >= 400:
        raise LabelStudioError(
            f"{action}: Label Studio answered {response.status_code}: {_short(response.text)}",
            permanent=_is_permanent(response.status_code),
            status=response.status_code,
        )


def _json(response: httpx.Response, action: str) -> dict[str, Any]:
    _raise_for_status(response, action)
    body = response.json()
    if not isinstance(body, dict):
        raise LabelStudioError(f"{action}: unexpected answer {_short(body)}", permanent=True)
    return body


def _filter(column: str, operator: str, kind: str, value: Any) -> dict[str, Any]:
    """One Data Manager filter (the ``query`` of ``GET /api/tasks/``)."""
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}


def _dm_datetime(value: datetime) -> str:
    """The one timestamp format the Data Manager's filters accept (UTC, microseconds, Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parsed(parse: Callable[[dict[str, Any]], T], raw: dict[str, Any]) -> T:
    """Through the one parser; what it cannot read will not improve on retry."""
    try:
        return parse(raw)
    except MalformedPayload as exc:
        raise LabelStudioError(
            f"Label Studio sent something the workbench cannot read: {exc}", permanent=True
        ) from exc


def _annotation(raw: dict[str, Any], task: dict[str, Any]) -> LsAnnotation:
    """Through the one parser (``payloads``); what it cannot read is Label Studio's fault and
    will not improve on retry."""
    try:
        return annotation_from_json(raw, task)
    except MalformedPayload as exc:
        raise LabelStudioError(
            f"Label Studio sent an annotation the workbench cannot read: {exc}", permanent=True
        ) from exc


def _id(value: Any) -> int:
    if value is None:
        raise LabelStudioError("Label Studio returned an object without an id", permanent=False)
    return int(value)


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _short(body: Any, limit: int = 500) -> str:
    text = str(body)
    return text if len(text) <= limit else text[:limit] + "..."
