"""Celery adapters: ids in, one service call, the retry policy of ``workbench.retries``.
Everything they call is idempotent."""

from workbench.retries import policy_task


@policy_task
def process_webhook_event(event_id: int) -> None:
    from workbench.annotations.services import webhook_event_process

    webhook_event_process(event_id=event_id)


@policy_task
def reconcile_project(project_id: int) -> dict[str, int]:
    from dataclasses import asdict

    from workbench.annotations.services import annotations_reconcile
    from workbench.projects.models import Project

    project = Project.objects.get(id=project_id)
    return asdict(annotations_reconcile(project=project))


@policy_task
def reconcile_all_projects() -> int:
    """Periodic (Celery beat): fan out one reconcile task per project."""
    from workbench.projects.models import Project

    ids = list(Project.objects.filter(ls_project_id__isnull=False).values_list("id", flat=True))
    for project_id in ids:
        reconcile_project.delay(project_id)
    return len(ids)


@policy_task
def sweep_webhook_events(older_than_seconds: int | None = None) -> int:
    """Periodic (Celery beat): re-queue stored events that were never processed (the broker was
    down when they came, or a worker died holding them); give up on those out of tries."""
    from datetime import timedelta

    from workbench.annotations.services import webhook_events_sweep

    older_than = None if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    report = webhook_events_sweep(older_than=older_than)
    for event_id in report.requeue:
        process_webhook_event.delay(event_id)
    return len(report.requeue)
