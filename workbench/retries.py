"""The one retry policy of every Celery task: retry what can succeed, record what cannot.

A timeout, a 5xx, a 408/429 from Label Studio or a lost database connection may pass when the
same call is made again later; a refusal (401, 403, 404, 400 ...) will not, however often it is
repeated. ``LabelStudioError.permanent`` (kept by ``errors.upstream_error``) is that decision, so
tasks read it instead of listing exception types each.

Every app's ``tasks.py`` declares its tasks with ``@policy_task`` instead of ``@shared_task``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from workbench.errors import UpstreamUnavailable
from workbench.labelstudio.types import LabelStudioError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

MAX_RETRIES = 5
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 600


def is_transient(exc: BaseException) -> bool:
    """Whether the same call may succeed later."""
    if isinstance(exc, LabelStudioError | UpstreamUnavailable):
        return not exc.permanent
    return isinstance(exc, OperationalError | InterfaceError)


def backoff_seconds(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 2, 4, 8, ... up to ten minutes."""
    return int(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**retries))


class PolicyTask(Task):
    """A task that retries transient errors with exponential backoff and logs a permanent
    error (or a transient one that outlived its retries) as failed, with its message."""

    max_retries = MAX_RETRIES

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        in_process_tries = 0
        while True:
            try:
                return super().__call__(*args, **kwargs)
            except Exception as exc:
                retries = int(self.request.retries or 0) + in_process_tries
                if not is_transient(exc) or retries >= self.max_retries or self.request.called_directly:
                    reason = (
                        "permanent error" if not is_transient(exc) else f"gave up after {retries} retries"
                    )
                    log.error("task %s failed (%s): %s", self.name, reason, exc)
                    raise
                log.warning("task %s: transient error, retry %d: %s", self.name, retries + 1, exc)
                if self.request.is_eager:  # no broker to wait in: try again here
                    in_process_tries += 1
                    continue
                raise self.retry(exc=exc, countdown=backoff_seconds(retries)) from exc


def policy_task(fun: F | None = None, **options: Any) -> Any:
    """``@policy_task`` or ``@policy_task(name=...)``: a shared task under the retry policy."""
    if fun is not None:
        return shared_task(base=PolicyTask, **options)(fun)  # type: ignore[no-untyped-call]  # celery-types
    return shared_task(base=PolicyTask, **options)
