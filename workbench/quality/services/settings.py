from __future__ import annotations

from typing import Any

from django.db import transaction

from workbench.bounds import INT32_MAX, Bound, check_bounds
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


# The ranges the quality computation accepts: label_quality.gold_report needs its threshold
# strictly inside (0, 1) (check_probability); the others are shares or counts.
QUALITY_BOUNDS: dict[str, Bound] = {
    "gold_rate": Bound(0, 1, why="the share of the pool kept as gold items"),
    "gold_threshold": Bound(
        0, 1, low_open=True, high_open=True, why="label_quality.gold_report needs (0, 1)"
    ),
    "gold_min_answers": Bound(1, INT32_MAX, integer=True),
    "agreement_threshold": Bound(0, 1),
    "agreement_min_items": Bound(1, INT32_MAX, integer=True),
}
CONSENSUS_METHODS = ("crowdlab", "majority_vote")


def quality_settings_get(*, project: Project) -> QualitySettings:
    found, _ = QualitySettings.objects.get_or_create(project=project)
    return found


def quality_settings_update(*, project: Project, **changes: Any) -> QualitySettings:
    """Change some settings; a new gold rate takes effect at once (gold items are chosen)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"Unknown quality setting(s) {unknown}; valid: {sorted(EDITABLE)}.")
    check_bounds(QUALITY_BOUNDS, changes)
    if changes.get("consensus_method", CONSENSUS_METHODS[0]) not in CONSENSUS_METHODS:
        raise ValidationFailed(
            f"consensus_method must be one of {', '.join(CONSENSUS_METHODS)}.",
            extra={"fields": {"consensus_method": [f"one of {', '.join(CONSENSUS_METHODS)}"]}},
        )
    from workbench.quality.services.gold import gold_items_select

    with transaction.atomic():
        current = QualitySettings.objects.select_for_update().get(pk=quality_settings_get(project=project).pk)
        for key, value in changes.items():
            setattr(current, key, EDITABLE[key](value))
        current.save()
        if "gold_rate" in changes:
            gold_items_select(project=project)
    return current


def quality_settings_check(*, project: Project) -> None:
    """Refuse to compute with stored settings the computation cannot use (values saved before
    they were checked): a 400 that says which setting to change, not a failed run or a 500."""
    current = quality_settings_get(project=project)
    try:
        check_bounds(QUALITY_BOUNDS, {name: getattr(current, name) for name in QUALITY_BOUNDS})
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"The project's quality settings need a change before quality can be computed: {exc.message}",
            extra=exc.extra,
        ) from exc
