"""Celery adapters: ids in, one service call, the retry policy of ``workbench.retries``."""

from workbench.retries import policy_task


@policy_task
def build_release(release_id: int) -> str | None:
    from workbench.releases.services import release_build

    release = release_build(release_id=release_id)
    return release.status if release is not None else None
