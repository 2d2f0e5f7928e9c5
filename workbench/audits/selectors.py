"""Reads of the audits app. Who may see a project is decided by ``workbench.pages`` (pages) and
``projects.apis.managed_project`` (API); these take a project already allowed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.db.models import QuerySet

from workbench.audits.models import AuditSettings, DriftCheck, FairnessAudit, ItemIdentity, LabelAudit
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


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def group_counts(*, project: Project, item_import: ItemImport | None = None) -> dict[str, int]:
    """Items mentioning each group (of the project, or of one import), most mentioned first."""
    rows = ItemIdentity.objects.filter(project=project)
    if item_import is not None:
        rows = rows.filter(item__source=item_import)
    counts: Counter[str] = Counter()
    for groups in rows.values_list("groups", flat=True).iterator(chunk_size=5000):
        counts.update(groups)
    return _sorted(counts)


def import_group_counts(*, import_id: int) -> dict[str, int] | None:
    """Items of one import mentioning each group, most mentioned first; None while its groups are
    not assigned yet (a worker runs the after-import audit once the import has committed)."""
    record = ItemImport.objects.filter(id=import_id).select_related("project").first()
    if record is None or (
        record.created_count and not ItemIdentity.objects.filter(item__source=record).exists()
    ):
        return None
    return group_counts(project=record.project, item_import=record)


def identity_summary(*, project: Project) -> dict[str, object]:
    """How many items have groups assigned, by which rule, and the counts (project and per
    import), in one pass over the stored groups."""
    total: Counter[str] = Counter()
    per_import: dict[int, Counter[str]] = {}
    assigned = with_any = 0
    rules: set[str] = set()
    rows = ItemIdentity.objects.filter(project=project).values_list("item__source_id", "groups", "rule")
    for source_id, groups, rule in rows.iterator(chunk_size=5000):
        assigned += 1
        with_any += bool(groups)
        rules.add(rule)
        total.update(groups)
        per_import.setdefault(source_id, Counter()).update(groups)
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


def drift_get(*, project: Project, check_id: int) -> DriftCheck | None:
    return DriftCheck.objects.filter(project=project, id=check_id).first()
