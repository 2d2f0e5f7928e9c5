"""The Celery beat task ``recompute_stale_projects`` (eager mode): it queues one computation for
each project whose annotations were synced after its newest computation was created, and none
for the others; the queued computations run and leave nothing stale behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from tests import factories
from tests.quality.helpers import annotate, annotators, separable_items
from workbench.annotations.models import Annotation
from workbench.projects.models import Project
from workbench.quality import tasks
from workbench.quality.models import QualityRun
from workbench.quality.services import quality_compute

pytestmark = pytest.mark.django_db


def annotated_project(fake_gateway: object) -> Project:
    project = factories.project(annotators_per_item=2)
    annotate(project, separable_items(project, 12), annotators(2), [0.0, 0.1])
    return project


def runs(project: Project) -> list[tuple[str, str]]:
    return list(QualityRun.objects.filter(project=project).order_by("id").values_list("trigger", "status"))


def test_only_projects_whose_annotations_changed_since_their_last_run_are_recomputed(
    fake_gateway: object,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    never_computed = annotated_project(fake_gateway)
    up_to_date = annotated_project(fake_gateway)
    changed_since = annotated_project(fake_gateway)
    no_annotations = factories.project()
    for project in (up_to_date, changed_since):
        quality_compute(project=project, trigger="command")
    # Its newest annotation was synced (by a webhook or reconciliation) after its run was created.
    newest_sync = Annotation.objects.filter(project=changed_since).aggregate(at=Max("synced_at"))["at"]
    QualityRun.objects.filter(project=changed_since).update(created_at=newest_sync - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = tasks.recompute_stale_projects.apply().get()

    assert queued == 2 and len(callbacks) == 2
    assert runs(never_computed) == [("sync", "done")]
    assert runs(up_to_date) == [("command", "done")]
    assert runs(changed_since) == [("command", "done"), ("sync", "done")]
    assert runs(no_annotations) == []
    # What it queued ran, so the next beat finds nothing stale.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.recompute_stale_projects.apply().get() == 0
    assert callbacks == []


def test_a_pending_computation_is_reused_not_queued_again(
    fake_gateway: object,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    project = annotated_project(fake_gateway)
    # A computation queued long ago that no worker has started yet (say the broker was down).
    pending = QualityRun.objects.create(project=project, trigger="api")
    QualityRun.objects.filter(id=pending.id).update(created_at=timezone.now() - timedelta(days=400))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.recompute_stale_projects.apply().get() == 1

    assert callbacks == []  # no second task: the pending run will cover the changes
    assert runs(project) == [("api", "pending")]
