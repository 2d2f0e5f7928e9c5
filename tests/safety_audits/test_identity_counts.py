"""The identity figures the summary, the audits page and the import report read come from the
per-import counts kept when the groups are written; they must equal a pass over every stored
record (the computation they replace, kept here as the oracle)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from tests import factories
from tests.safety_audits.helpers import identity_records
from workbench.audits import selectors
from workbench.audits.models import ImportIdentityCounts, ItemIdentity
from workbench.audits.services.identity import audit_settings_update, identity_assign
from workbench.projects import services as project_services
from workbench.projects.models import ItemImport, Project
from workbench.projects.services import items_import_records

# transaction=True: the import's on-commit hook runs (Celery is eager in tests).
pytestmark = pytest.mark.django_db(transaction=True)


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def oracle_group_counts(project: Project, item_import: ItemImport | None = None) -> dict[str, int]:
    rows = ItemIdentity.objects.filter(project=project)
    if item_import is not None:
        rows = rows.filter(item__source=item_import)
    counts: Counter[str] = Counter()
    for groups in rows.values_list("groups", flat=True):
        counts.update(groups)
    return _sorted(counts)


def oracle_import_group_counts(import_id: int) -> dict[str, int] | None:
    record = ItemImport.objects.filter(id=import_id).select_related("project").first()
    if record is None or (
        record.created_count and not ItemIdentity.objects.filter(item__source=record).exists()
    ):
        return None
    return oracle_group_counts(record.project, record)


def oracle_summary(project: Project) -> dict[str, object]:
    total: Counter[str] = Counter()
    per_import: dict[int, Counter[str]] = {}
    assigned = with_any = 0
    rules: set[str] = set()
    for source_id, groups, rule in ItemIdentity.objects.filter(project=project).values_list(
        "item__source_id", "groups", "rule"
    ):
        assigned += 1
        with_any += bool(groups)
        rules.add(rule)
        total.update(groups)
        per_import.setdefault(source_id, Counter()).update(groups)
    project.refresh_from_db()
    return {
        "items": project.item_count,
        "assigned": assigned,
        "with_any_group": with_any,
        "rules": sorted(rules),
        "counts": _sorted(total),
        "imports": [
            {
                "import_id": record.id,
                "source_name": record.source_name,
                "created": record.created_count,
                "counts": _sorted(per_import.get(record.id, Counter())),
            }
            for record in ItemImport.objects.filter(project=project).order_by("id")
        ],
    }


def assert_same_as_oracle(project: Project) -> dict[str, Any]:
    project.refresh_from_db()
    summary = selectors.identity_summary(project=project)
    assert summary == oracle_summary(project)
    assert list(summary["counts"]) == list(oracle_summary(project)["counts"])  # type: ignore[call-overload]
    assert selectors.group_counts(project=project) == oracle_group_counts(project)
    for record in ItemImport.objects.filter(project=project):
        assert selectors.group_counts(project=project, item_import=record) == oracle_group_counts(
            project, record
        )
        assert selectors.import_group_counts(import_id=record.id) == oracle_import_group_counts(record.id)
    return summary


def test_the_kept_counts_equal_a_pass_over_the_stored_groups_across_imports_and_reassignment(
    fake_gateway: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = factories.project()
    other = factories.project()  # its items must not count in the first project's figures
    items_import_records(project=other, records=identity_records(20, seed=5))
    items_import_records(project=project, records=identity_records(60))
    items_import_records(project=project, records=identity_records(45, seed=1, start=60))
    summary = assert_same_as_oracle(project)
    assert summary["assigned"] == 105 and 0 < summary["with_any_group"] < 105
    assert len(summary["imports"]) == 2 and all(i["counts"] for i in summary["imports"])

    # The project's lexicon changes and every item is reassigned: other groups, fewer items with one.
    audit_settings_update(
        project=project, lexicon={"bridge": "engineers", "photo": "artists", "muslim": "muslim"}
    )
    identity_assign(project=project)
    summary = assert_same_as_oracle(project)
    assert set(summary["counts"]) <= {"engineers", "artists", "muslim"}
    assert summary["rules"] == ["lexicon project custom"]

    # Only the newest import reassigned (as its after-import audit would): two rules at once.
    audit_settings_update(project=project, identity_columns=["id_muslim", "id_women"])
    second = ItemImport.objects.filter(project=project).order_by("id").last()
    identity_assign(project=project, item_import=second)
    summary = assert_same_as_oracle(project)
    assert len(summary["rules"]) == 2

    # An import whose audit has not run yet: no counts for it, and the report says None.
    monkeypatch.setattr(project_services, "items_import_committed", lambda *, import_id: None)
    report = items_import_records(project=project, records=identity_records(10, seed=2, start=200))
    assert selectors.import_group_counts(import_id=report.import_id) is None
    assert not ImportIdentityCounts.objects.filter(item_import_id=report.import_id).exists()
    assert_same_as_oracle(project)
    identity_assign(project=project, item_import=ItemImport.objects.get(id=report.import_id))
    assert selectors.import_group_counts(import_id=report.import_id) is not None
    assert_same_as_oracle(project)
    assert_same_as_oracle(other)


def test_the_migration_fills_the_counts_of_groups_stored_before_it(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    items_import_records(project=project, records=identity_records(40))
    items_import_records(project=project, records=identity_records(30, seed=3, start=40))
    project.refresh_from_db()
    expected = selectors.identity_summary(project=project)
    ImportIdentityCounts.objects.all().delete()
    call_command("migrate", "safety_audits", "0001", verbosity=0)
    call_command("migrate", "safety_audits", verbosity=0)
    assert ImportIdentityCounts.objects.filter(project=project).count() == 2
    assert selectors.identity_summary(project=project) == expected == oracle_summary(project)
