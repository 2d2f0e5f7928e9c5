"""The after-import hook through a real Celery worker on Redis: the import commits, its task is
queued on Redis, and a separate worker process assigns the identity groups and stores the drift
check in the same PostgreSQL."""

from __future__ import annotations

import time

import pytest

from tests import factories
from tests.integration.test_celery_worker import worker  # noqa: F401  (the real worker fixture)
from tests.safety_audits.helpers import identity_records
from workbench.audits.models import DriftCheck, ItemIdentity
from workbench.projects.models import ItemImport
from workbench.projects.services import items_import_records

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _hashed_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker (started after this, from the environment) embeds nothing with torch."""
    monkeypatch.setenv("WORKBENCH_FEATURIZER", "hashed")


def test_an_imports_audit_runs_in_a_real_worker(fake_gateway, worker) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    project = factories.project()
    items_import_records(project=project, records=identity_records(40))
    items_import_records(project=project, records=identity_records(40, seed=3, start=40))
    second = ItemImport.objects.filter(project=project).order_by("-id").first()
    assert second is not None
    deadline = time.monotonic() + 120
    while not DriftCheck.objects.filter(item_import=second).exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.terminate()
            output = worker.communicate(timeout=30)[0]
            pytest.fail(f"the worker did not run the import's audit; its log:\n{output[-3000:]}")
        time.sleep(0.2)
    check = DriftCheck.objects.get(item_import=second)
    assert check.status == "done" and check.trigger == "import", check.reason
    assert (check.side_a, check.n_a, check.n_b) == (f"before:{second.id}", 40, 40)
    assert ItemIdentity.objects.filter(item__source=second).count() == 40
