"""Celery outcomes and reconciliation runs are counted in the database by the process that ran
the task, so /metrics (another process) reports them: in-process (eager) and through a real
worker on Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django.test import Client

from tests import factories
from workbench.annotations import tasks
from workbench.ops.models import ReconcileTotals, TaskCounter
from workbench.projects.models import Project

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
RECONCILE = "workbench.annotations.tasks.reconcile_project"
RECONCILE_ALL = "workbench.annotations.tasks.reconcile_all_projects"


def counts() -> dict[tuple[str, str], int]:
    return {(c.task, c.outcome): c.count for c in TaskCounter.objects.all()}


@pytest.mark.django_db
def test_an_eager_reconciliation_is_counted_with_its_fixes(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    tasks.reconcile_project.delay(project.id)
    tasks.reconcile_project.delay(project.id)
    totals = ReconcileTotals.objects.get(project=project)
    assert (totals.runs, totals.failed_runs, totals.created, totals.updated, totals.deleted) == (
        2,
        0,
        0,
        0,
        0,
    )
    assert totals.last_finished_at is not None
    assert counts()[(RECONCILE, "success")] == 2


@pytest.mark.django_db
def test_a_failed_reconciliation_is_counted_as_a_failed_run(fake_gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workbench.annotations import services

    def broken(*, project: Project) -> None:
        raise RuntimeError("the export was cut off")

    project = factories.project()
    tasks.reconcile_project.delay(project.id)
    monkeypatch.setattr(services, "annotations_reconcile", broken)
    # As a worker runs it: the error is recorded, not raised into the caller (eager mode
    # propagates errors into the request before Celery's failure signal; see the README).
    result = tasks.reconcile_project.apply(args=[project.id], throw=False)
    assert result.state == "FAILURE"
    totals = ReconcileTotals.objects.get(project=project)
    assert (totals.runs, totals.failed_runs) == (2, 1)
    assert counts() == {(RECONCILE, "success"): 1, (RECONCILE, "failure"): 1}
    metrics = Client().get("/metrics").content.decode()
    assert f'workbench_reconcile_runs_total{{outcome="failure",project="{project.name}"}} 1.0' in metrics


@pytest.mark.django_db
def test_a_task_for_a_missing_project_counts_a_failure_and_no_run() -> None:
    missing = (Project.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    assert tasks.reconcile_project.apply(args=[missing], throw=False).state == "FAILURE"
    assert counts() == {(RECONCILE, "failure"): 1}
    assert not ReconcileTotals.objects.exists()


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[str]]:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("The Celery worker test needs PostgreSQL: set DATABASE_URL (bin/test does).")
    redis.Redis.from_url(BROKER).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_outcomes_in_a_real_worker_reach_the_metrics_of_the_web_process(worker) -> None:  # type: ignore[no-untyped-def]
    producer = Celery(broker=BROKER, set_as_current=False)  # the suite keeps its own (eager) app
    missing = (Project.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    producer.send_task(RECONCILE_ALL)  # no project has a Label Studio project: succeeds, fans out nothing
    producer.send_task(RECONCILE, args=[missing])  # Project.DoesNotExist: not retried, a failure

    deadline = time.monotonic() + 120
    while counts() != {(RECONCILE_ALL, "success"): 1, (RECONCILE, "failure"): 1}:
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.terminate()
            pytest.fail(f"counted {counts()}; the worker's log:\n{worker.communicate(timeout=60)[0][-3000:]}")
        time.sleep(0.2)

    metrics = Client().get("/metrics").content.decode()
    assert f'workbench_celery_tasks_total{{outcome="failure",task="{RECONCILE}"}} 1.0' in metrics
    assert f'workbench_celery_tasks_total{{outcome="success",task="{RECONCILE_ALL}"}} 1.0' in metrics
