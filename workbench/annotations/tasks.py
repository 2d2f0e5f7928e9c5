"""Celery adapters: ids in, one service call, retry policy. Everything they call is idempotent."""

from celery import shared_task
from django.db import OperationalError

from workbench.errors import UpstreamUnavailable


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def process_webhook_event(event_id: int) -> None:
    from workbench.annotations.services import webhook_event_process

    webhook_event_process(event_id=event_id)


@shared_task(autoretry_for=(UpstreamUnavailable, OperationalError), retry_backoff=30, max_retries=5)
def reconcile_project(project_id: int) -> dict[str, int]:
    from dataclasses import asdict

    from workbench.annotations.services import annotations_reconcile
    from workbench.projects.models import Project

    project = Project.objects.get(id=project_id)
    return asdict(annotations_reconcile(project=project))


@shared_task
def reconcile_all_projects() -> int:
    """Periodic (Celery beat): fan out one reconcile task per project."""
    from workbench.projects.models import Project

    ids = list(Project.objects.filter(ls_project_id__isnull=False).values_list("id", flat=True))
    for project_id in ids:
        reconcile_project.delay(project_id)
    return len(ids)
