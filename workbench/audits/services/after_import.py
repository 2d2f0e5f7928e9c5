"""What runs after every import: a Celery task that ``audits_after_import`` enqueues once the
import has committed (``workbench.projects.services.items_import_committed`` calls it)."""

from __future__ import annotations

from workbench.audits.models import DriftCheck
from workbench.audits.services.drift import drift_check_run, reference_of
from workbench.audits.services.identity import identity_assign
from workbench.errors import ValidationFailed
from workbench.projects.models import ItemImport


def audits_after_import(*, import_id: int) -> None:
    """Run the import's audits (called once the import has committed)."""
    from workbench.audits import tasks

    tasks.audit_import.delay(import_id)


def import_audit_run(*, import_id: int) -> DriftCheck | None:
    """Identity groups of the import's items, then its drift check against the reference
    (:func:`reference_of`). Runs twice safely: both steps overwrite their own rows."""
    record = ItemImport.objects.select_related("project").filter(id=import_id).first()
    if record is None:
        return None  # the import's project was deleted since
    side_a, side_b = reference_of(record), f"import:{record.id}"
    try:
        identity_assign(project=record.project, item_import=record)
        return drift_check_run(
            project=record.project,
            side_a=side_a,
            side_b=side_b,
            trigger=DriftCheck.Trigger.IMPORT,
            item_import=record,
        )
    except ValidationFailed as exc:  # e.g. an identity column holding words: say so, keep the import
        check, _ = DriftCheck.objects.update_or_create(
            item_import=record,
            defaults={
                "project": record.project,
                "trigger": DriftCheck.Trigger.IMPORT,
                "side_a": side_a,
                "side_b": side_b,
                "status": DriftCheck.Status.SKIPPED,
                "reason": exc.message,
            },
        )
        return check
