"""Celery adapters: ids in, one service call. The import audit overwrites its own rows, so a
redelivered task repeats the same result."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def audit_import(import_id: int) -> None:
    from workbench.audits.services.after_import import import_audit_run

    import_audit_run(import_id=import_id)
