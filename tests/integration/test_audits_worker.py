"""The after-import hook through a real Celery worker on Redis: the import commits, its task is
queued on Redis, and a separate worker process assigns the identity groups and stores the drift
check in the same PostgreSQL."""

from __future__ import annotations

import pytest

from tests import factories
from tests.integration.worker import Worker, queued, wait_for
from tests.safety_audits.helpers import identity_records
from workbench.audits.models import DriftCheck, ItemIdentity
from workbench.projects.models import ItemImport
from workbench.projects.services import items_import_records

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _hashed_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker (its environment is read after this) embeds nothing with torch."""
    monkeypatch.setenv("WORKBENCH_FEATURIZER", "hashed")


def test_an_imports_audit_runs_in_a_real_worker(fake_gateway, celery_worker_process: Worker) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    items_import_records(project=project, records=identity_records(40))
    items_import_records(project=project, records=identity_records(40, seed=3, start=40))
    second = ItemImport.objects.filter(project=project).order_by("-id").first()
    assert second is not None
    # Nothing ran in this process: both audits wait on Redis for a worker.
    assert queued() == 2 and not DriftCheck.objects.filter(project=project).exists()

    celery_worker_process.start()
    wait_for(
        lambda: DriftCheck.objects.filter(item_import=second).exists(),
        120,
        "the worker to run the import's audit",
        celery_worker_process,
    )
    check = DriftCheck.objects.get(item_import=second)
    assert check.status == "done" and check.trigger == "import", check.reason
    assert (check.side_a, check.n_a, check.n_b) == (f"before:{second.id}", 40, 40)
    assert ItemIdentity.objects.filter(item__source=second).count() == 40
