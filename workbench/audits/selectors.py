"""Reads of the audits app. Who may see a project is decided by ``workbench.pages`` (pages) and
``projects.apis.managed_project`` (API); these take a project already allowed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from django.db.models import QuerySet

from workbench.audits.models import (
    AuditSettings,
    DriftCheck,
    FairnessAudit,
    ImportIdentityCounts,
    ItemIdentity,
    LabelAudit,
)
from workbench.projects.models import ItemImport, Project
from workbench.rounds.models import Round


def audit_settings_get(*, project: Project) -> AuditSettings:
    """The project's audit settings (defaults until someone changes them)."""
    return AuditSettings.objects.filter(project=project).first() or AuditSettings(project=project)


def groups_of(*, project: Project, item_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The stored identity groups of the given items (items without a record are left out)."""
    rows = ItemIdentity.objects.filter(project=project, item_id__in=list(item_ids)).values_list(
        "item_id", "groups"
    )
    return {item_id: frozenset(groups) for item_id, groups in rows.iterator(chunk_size=5000)}


def most_mentioned_first(counts: Mapping[str, int]) -> dict[str, int]:
    """Group counts in the order every report shows them: most mentioned first, then by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def group_counts(*, project: Project, item_import: ItemImport | None = None) -> dict[str, int]:
    """Items mentioning each group (of the project, or of one import), most mentioned first; read
    from the per-import counts kept when the groups are written (O(imports x groups))."""
    rows = ImportIdentityCounts.objects.filter(project=project)
    if item_import is not None:
        rows = rows.filter(item_import=item_import)
    counts: Counter[str] = Counter()
    for row_counts in rows.values_list("counts", flat=True):
        counts.update(row_counts)
    return most_mentioned_first(counts)


def import_group_counts(*, import_id: int) -> dict[str, int] | None:
    """Items of one import mentioning each group, most mentioned first; None while its groups are
    not assigned yet (a worker runs the after-import audit once the import has committed)."""
    record = ItemImport.objects.filter(id=import_id).select_related("project").first()
    if record is None:
        return None
    row = ImportIdentityCounts.objects.filter(item_import=record).first()
    if record.created_count and (row is None or not row.assigned):
        return None
    return most_mentioned_first(row.counts if row is not None else {})


def identity_summary(*, project: Project) -> dict[str, object]:
    """How many items have groups assigned, by which rule, and the counts (project and per
    import), from the per-import counts kept when the groups are written."""
    per_import = {row.item_import_id: row for row in ImportIdentityCounts.objects.filter(project=project)}
    total: Counter[str] = Counter()
    rules: set[str] = set()
    for row in per_import.values():
        total.update(row.counts)
        rules.update(row.rules)
    return {
        "items": project.item_count,
        "assigned": sum(row.assigned for row in per_import.values()),
        "with_any_group": sum(row.with_any_group for row in per_import.values()),
        "rules": sorted(rules),
        "counts": most_mentioned_first(total),
        "imports": [
            {
                "import_id": record.id,
                "source_name": record.source_name,
                "created": record.created_count,
                "counts": most_mentioned_first(per_import[record.id].counts)
                if record.id in per_import
                else {},
            }
            for record in ItemImport.objects.filter(project=project).order_by("id")
        ],
    }


def fairness_get(*, round_: Round) -> FairnessAudit | None:
    return FairnessAudit.objects.filter(round=round_).first()


def fairness_of(*, project: Project) -> dict[int, FairnessAudit]:
    return {a.round_id: a for a in FairnessAudit.objects.filter(project=project)}


def label_audit_latest(*, project: Project) -> LabelAudit | None:
    return LabelAudit.objects.filter(project=project).order_by("-id").first()


def drift_checks(*, project: Project) -> QuerySet[DriftCheck]:
    return DriftCheck.objects.filter(project=project).order_by("-id")


def drift_of_last_import(*, project: Project) -> DriftCheck | None:
    """The check run after the project's newest import (None until it has run)."""
    last = ItemImport.objects.filter(project=project).order_by("-id").first()
    return None if last is None else DriftCheck.objects.filter(item_import=last).first()
