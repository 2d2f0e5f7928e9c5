"""Celery adapters: ids in, one service call, retry policy."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def build_release(release_id: int) -> str | None:
    from workbench.releases.services import release_build

    release = release_build(release_id=release_id)
    return release.status if release is not None else None
