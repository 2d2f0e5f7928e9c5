from __future__ import annotations

from typing import Any

from django.db import transaction

from workbench.errors import ValidationFailed
from workbench.projects.models import Project
from workbench.quality.models import QualitySettings

EDITABLE = {
    "gold_rate": float,
    "gold_threshold": float,
    "gold_min_answers": int,
    "agreement_threshold": float,
    "agreement_min_items": int,
    "consensus_method": str,
}


def quality_settings_get(*, project: Project) -> QualitySettings:
    found, _ = QualitySettings.objects.get_or_create(project=project)
    return found


def quality_settings_update(*, project: Project, **changes: Any) -> QualitySettings:
    """Change some settings; a new gold rate takes effect at once (gold items are chosen)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"Unknown quality setting(s) {unknown}; valid: {sorted(EDITABLE)}.")
    for key in ("gold_rate", "gold_threshold", "agreement_threshold"):
        if key in changes and not 0 <= float(changes[key]) <= 1:
            raise ValidationFailed(f"{key} must lie in [0, 1]; got {changes[key]}.")
    if changes.get("consensus_method", "crowdlab") not in ("crowdlab", "majority_vote"):
        raise ValidationFailed("consensus_method must be 'crowdlab' or 'majority_vote'.")
    for key in ("gold_min_answers", "agreement_min_items"):
        if key in changes and int(changes[key]) < 1:
            raise ValidationFailed(f"{key} must be at least 1; got {changes[key]}.")
    from workbench.quality.services.gold import gold_items_select

    with transaction.atomic():
        current = QualitySettings.objects.select_for_update().get(pk=quality_settings_get(project=project).pk)
        for key, value in changes.items():
            setattr(current, key, EDITABLE[key](value))
        current.save()
        if "gold_rate" in changes:
            gold_items_select(project=project)
    return current
