"""Incremental reconciliation against the real Label Studio: after the first (full) pass, a pass
reads only the tasks changed in Label Studio (an annotation updated and one deleted directly
there, through its API), finds the deletion, and a task deleted in Label Studio (which touches no
other task) is caught by the count check and a full pass."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from workbench.labelstudio.server import ServerInfo

pytestmark = pytest.mark.label_studio


@pytest.mark.django_db(transaction=True)
def test_incremental_reconciliation_finds_updates_and_deletions_made_in_label_studio(
    real_gateway: Any, label_studio: ServerInfo, settings: Any
) -> None:
    from tests import factories
    from workbench.annotations.models import Annotation
    from workbench.annotations.services import annotations_reconcile
    from workbench.annotations.simulation import simulate, simulated_annotators
    from workbench.projects import kinds
    from workbench.projects.models import Item
    from workbench.projects.services import items_push, project_create

    settings.PUBLIC_URL = "http://127.0.0.1:9"  # Label Studio's own deliveries go nowhere
    settings.RECONCILE_OVERLAP_SECONDS = 0
    project = project_create(name=f"incremental {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    interface = kinds.interface(project.kind)
    try:
        factories.toxicity_items(project, 6)
        items_push(project=project)
        simulate(project=project, annotators=simulated_annotators(1, [0.0]), max_tasks_per_annotator=4)

        def truth() -> dict[int, tuple[int, Any]]:
            return {
                a.id: (a.task_data["item_id"], interface.label_from(a.result))
                for a in real_gateway.iter_annotations(project_id=project.ls_id())
            }

        def stored() -> dict[int, tuple[int, Any]]:
            return {
                a.ls_annotation_id: (a.item_id, a.label) for a in Annotation.objects.filter(project=project)
            }

        # Label Studio's mark (its Date header) has whole seconds: a task changed in the second
        # a pass begins is read again by the next pass. Keep the changes out of those seconds.
        time.sleep(1.1)
        first = annotations_reconcile(project=project)
        assert (first.full_pass, first.created, first.tasks_read) == (True, 4, 6)
        assert stored() == truth()

        time.sleep(1.1)
        held = sorted(truth())
        flipped = next(c for c in interface.spec.labels if c != stored()[held[0]][1])
        real_gateway.update_annotation(annotation_id=held[0], result=interface.result_for(flipped))
        real_gateway.delete_annotation(annotation_id=held[1])

        second = annotations_reconcile(project=project)
        assert (second.full_pass, second.tasks_read) == (False, 2)
        assert (second.created, second.updated, second.deleted, second.seen) == (0, 1, 1, 3)
        assert stored() == truth()
        assert stored()[held[0]][1] == flipped

        # A task deleted in Label Studio bumps no other task: the count shows it.
        gone = Annotation.objects.get(project=project, ls_annotation_id=held[2])
        response = httpx.delete(
            f"{label_studio.url}/api/tasks/{gone.ls_task_id}/",
            headers={"Authorization": f"Token {label_studio.token}"},
        )
        assert response.status_code == 204
        third = annotations_reconcile(project=project)
        assert (third.full_pass, third.deleted, third.task_ids_repaired) == (True, 1, 1)
        assert stored() == truth()
        assert Item.objects.get(id=gone.item_id).ls_task_id is None
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)
