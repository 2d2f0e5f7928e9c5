"""Celery adapters: ids in, one service call, the retry policy of ``workbench.retries``. A
computation is claimed by a conditional UPDATE and records its own failure, so a task
delivered (or retried) twice computes once."""

from workbench.retries import policy_task


@policy_task
def compute_quality(run_id: int) -> bool:
    from workbench.quality.services import quality_run_execute

    return quality_run_execute(run_id=run_id)


@policy_task
def recompute_stale_projects() -> int:
    """Periodic (Celery beat): queue a computation for every project whose annotations changed
    since its last computation started (webhooks and reconciliation both count)."""
    from workbench.quality.services.compute import quality_recompute_stale

    return quality_recompute_stale()
