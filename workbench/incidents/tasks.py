"""Celery adapters: ids in, one service call. The drift check overwrites its own row, so a
redelivered task repeats the same result."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def feedback_drift(batch_id: int) -> None:
    from workbench.incidents.services import feedback_drift_run

    feedback_drift_run(batch_id=batch_id)
