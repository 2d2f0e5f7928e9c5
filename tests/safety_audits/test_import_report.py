"""The import report says how many of the import's items mention each identity group (issue 9,
item 1): the API's response and import_items' output, and "a worker assigns them" when the
after-import audit has not run yet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import factories
from tests.safety_audits.helpers import identity_records
from workbench.accounts.models import Role
from workbench.audits.selectors import import_group_counts
from workbench.projects.models import ItemImport
from workbench.projects.services import items_import_records

# transaction=True: the import's on-commit hook runs (Celery is eager in tests).
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_import_response_counts_the_groups_of_its_own_items(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    admin = factories.user(Role.ADMIN)
    project = factories.project(owner=admin)
    client = factories.api_client(admin)
    first = client.post(
        f"/api/projects/{project.id}/items/import/", {"items": identity_records(50)}, format="json"
    )
    assert first.status_code == 201, first.json()
    assert first.json()["identity_groups"] == {
        "christian": 10,
        "female": 10,
        "homosexual_gay_or_lesbian": 10,
        "muslim": 10,
    }
    # The next import counts its own items only.
    second = client.post(
        f"/api/projects/{project.id}/items/import/",
        {"items": identity_records(5, seed=1, start=50)},
        format="json",
    )
    assert sum(second.json()["identity_groups"].values()) == 4


def test_import_items_prints_the_counts(fake_gateway, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    rows = identity_records(10)
    path = tmp_path / "pool.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = io.StringIO()
    call_command("import_items", project.name, str(path), stdout=out)
    assert "Items mentioning each identity group: " in out.getvalue()
    assert "muslim 2" in out.getvalue()


def test_groups_not_assigned_yet_read_as_none(fake_gateway, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from workbench.audits.services import after_import

    monkeypatch.setattr(after_import, "audits_after_import", lambda *, import_id: None)  # no worker yet
    project = factories.project()
    items_import_records(project=project, records=identity_records(5))
    record = ItemImport.objects.get(project=project)
    assert import_group_counts(import_id=record.id) is None
