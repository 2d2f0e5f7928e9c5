"""Celery adapters: ids in, one service call. ``round_run`` claims its row, so a redelivered
task does nothing."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_round(round_id: int) -> None:
    from workbench.rounds.services import round_run

    round_run(round_id=round_id)
