"""Celery adapters: ids in, one service call. A computation is claimed by a conditional
UPDATE, so a task delivered twice computes once; it is not retried (the next sync queues a
new one)."""

from celery import shared_task


@shared_task
def compute_quality(run_id: int) -> bool:
    from workbench.quality.services import quality_run_execute

    return quality_run_execute(run_id=run_id)


@shared_task
def recompute_stale_projects() -> int:
    """Periodic (Celery beat): queue a computation for every project whose annotations changed
    since its last computation started (webhooks and reconciliation both count)."""
    from workbench.quality.services.compute import quality_recompute_stale

    return quality_recompute_stale()
