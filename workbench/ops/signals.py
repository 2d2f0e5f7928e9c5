"""Celery signal receivers: every task's outcome, and the reconciliation reports, counted in the
database (``services``). Connected once from ``OpsConfig.ready``."""

from __future__ import annotations

from typing import Any

from celery import signals

RECONCILE_TASK = "workbench.annotations.tasks.reconcile_project"


def _on_success(sender: Any = None, result: Any = None, **kwargs: Any) -> None:
    from workbench.ops import services

    name = getattr(sender, "name", None)
    if not name:
        return
    services.task_outcome_record(task=name, outcome="success")
    if name == RECONCILE_TASK and isinstance(result, dict):
        project_id = _project_id(sender)
        if project_id is not None:
            services.reconcile_run_record(project_id=project_id, report=result)


def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    from workbench.ops import services

    name = getattr(sender, "name", None)
    if not name:
        return
    services.task_outcome_record(task=name, outcome="failure")
    if name == RECONCILE_TASK:
        project_id = _project_id(sender, kwargs.get("args"))
        if project_id is not None:
            services.reconcile_run_record(project_id=project_id, report=None)


def _on_retry(sender: Any = None, **kwargs: Any) -> None:
    from workbench.ops import services

    name = getattr(sender, "name", None)
    if name:
        services.task_outcome_record(task=name, outcome="retry")


def _project_id(task: Any, args: Any = None) -> int | None:
    """The project id a reconcile_project call was given (its one positional or keyword argument)."""
    request = getattr(task, "request", None)
    args = args if args is not None else getattr(request, "args", None) or ()
    kwargs = getattr(request, "kwargs", None) or {}
    value = args[0] if args else kwargs.get("project_id")
    return value if isinstance(value, int) else None


def _keep_django_logging(**kwargs: Any) -> None:
    """Celery configures logging itself unless someone handles this signal: handled, the worker
    and beat log through settings.LOGGING (JSON lines in production) like the web process."""


def connect() -> None:
    signals.setup_logging.connect(_keep_django_logging, weak=False, dispatch_uid="workbench.ops.logging")
    signals.task_success.connect(_on_success, weak=False, dispatch_uid="workbench.ops.success")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="workbench.ops.failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="workbench.ops.retry")
