"""Writes of the ops app: counters that the worker processes keep in the database so that
/metrics (served by another process) can read them."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from workbench.ops.models import ReconcileTotals, TaskCounter
from workbench.projects.models import Project

logger = logging.getLogger(__name__)

# The reconciliation task's report fields that count as fixes.
RECONCILE_FIXES = ("created", "updated", "deleted")


def task_outcome_record(*, task: str, outcome: str) -> None:
    """Count one outcome of one task. Never raises: a broken database must not turn a task's
    success into a failure, nor hide the task's own error."""
    now = timezone.now()
    try:
        with transaction.atomic():
            TaskCounter.objects.get_or_create(task=task, outcome=outcome, defaults={"last_at": now})
            TaskCounter.objects.filter(task=task, outcome=outcome).update(count=F("count") + 1, last_at=now)
    except DatabaseError:
        logger.warning(
            "could not count task outcome", extra={"task": task, "outcome": outcome}, exc_info=True
        )


def reconcile_run_record(*, project_id: int, report: Mapping[str, object] | None) -> None:
    """Add one reconciliation run (``report`` None: it failed) to the project's totals."""
    now = timezone.now()
    fixes = {
        name: int(value)
        for name in RECONCILE_FIXES
        if report is not None and isinstance(value := report.get(name), int)
    }
    if not Project.objects.filter(id=project_id).exists():
        return  # a run for a project that is gone (or never was): nothing to add it to
    try:
        with transaction.atomic():
            ReconcileTotals.objects.get_or_create(project_id=project_id)
            ReconcileTotals.objects.filter(project_id=project_id).update(
                runs=F("runs") + 1,
                failed_runs=F("failed_runs") + (1 if report is None else 0),
                last_finished_at=now,
                **{name: F(name) + n for name, n in fixes.items()},
            )
    except DatabaseError:
        logger.warning("could not record reconciliation run", extra={"project_id": project_id}, exc_info=True)
