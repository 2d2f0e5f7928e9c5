"""Issue 14: the drift check after a large import tests a seeded uniform sample of each side
(``MAX_SIDE_ITEMS``) instead of loading every item, and says so."""

from __future__ import annotations

import pytest

from tests.safety_audits.helpers import identity_project, identity_records
from workbench.audits.services import drift
from workbench.projects.models import Item, ItemImport
from workbench.projects.services import items_import_records

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_side_over_the_limit_is_tested_on_a_seeded_sample_and_keeps_its_full_size(  # type: ignore[no-untyped-def]
    fake_gateway, monkeypatch
) -> None:
    project, _ = identity_project(60)
    items_import_records(project=project, records=identity_records(50, seed=5, start=60))
    a, b = ItemImport.objects.filter(project=project).order_by("id")
    monkeypatch.setattr(drift, "MAX_SIDE_ITEMS", 40)
    check = drift.drift_check_run(
        project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api"
    )
    assert check.status == "done", check.reason
    assert (check.n_a, check.n_b) == (60, 50)
    assert (check.report["tested_a"], check.report["tested_b"]) == (40, 40)
    sampled_a = set(check.report["most_a_items"])
    assert sampled_a <= set(Item.objects.filter(source=a).values_list("id", flat=True))
    again = drift.drift_check_run(
        project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api"
    )
    assert again.report["most_a_items"] == check.report["most_a_items"]  # the same seed, the same sample
    monkeypatch.setattr(drift, "MAX_SIDE_ITEMS", 100)
    whole = drift.drift_check_run(
        project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api"
    )
    assert (whole.report["tested_a"], whole.report["tested_b"]) == (60, 50)
