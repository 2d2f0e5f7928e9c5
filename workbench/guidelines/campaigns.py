"""Relabel campaigns: after a policy shift, send items labeled under older guideline versions to
annotators again, under the new one, and track what came back.

Selection reads the answers that count (the vote policy): an item qualifies when some of its
counted answers were made under an older version (or before any guideline) and none under the
campaign's version yet; ``label`` keeps those whose older answers' consensus is that label,
``pattern`` those whose text matches the regex. Each selected item gets one follow-up task (its
data carries ``relabel_campaign`` and the new version), like a label-issue review. A task is
``queued`` until the item has a counted answer under the campaign's version, then ``changed``
or ``unchanged`` by comparing the consensus of those answers with the old label.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from workbench import votes
from workbench.errors import ValidationFailed, upstream_error
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign, RelabelTask
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.kinds import KindSpec, Label, spec_of
from workbench.projects.models import Item, Project
from workbench.projects.services import task_data

STATUSES = ("queued", "changed", "unchanged")


def _as_stored(label: Label) -> Any:
    return list(label) if isinstance(label, tuple) else label


def _text_of(item_data: dict[str, Any], spec: KindSpec) -> str:
    return "\n".join(str(item_data.get(name, "")) for name in spec.data_fields)


def selection_check(spec: KindSpec, label: str, pattern: str) -> re.Pattern[str] | None:
    """A 400 naming the field for a label the kind cannot hold or a regex that does not compile."""
    if label and label not in spec.labels:
        raise ValidationFailed(
            f"relabel_label: {label!r} is not a label of {spec.kind}; valid: {', '.join(spec.labels)}.",
            extra={"fields": {"relabel_label": [f"one of {', '.join(spec.labels)}"]}},
        )
    try:
        return re.compile(pattern) if pattern else None
    except re.error as exc:
        raise ValidationFailed(
            f"relabel_pattern: not a valid regular expression ({exc}).",
            extra={"fields": {"relabel_pattern": [str(exc)]}},
        ) from exc


def campaign_open(
    *, version: GuidelineVersion, label: str = "", pattern: str = "", created_by: User | None
) -> RelabelCampaign:
    """Select the items and push one follow-up task each; nothing is recorded if Label Studio
    refuses. A selection that finds no item is a 400 (nothing to relabel)."""
    project: Project = version.project
    spec = spec_of(project.kind)
    regex = selection_check(spec, label, pattern)
    counted = votes.counted_answers(project=project, spec=spec)
    texts = dict(Item.objects.filter(project=project, id__in=list(counted)).values_list("id", "data"))
    chosen: list[tuple[int, Label]] = []
    for item_id, answers in sorted(counted.items()):
        if any(a.guideline_version is not None and a.guideline_version >= version.version for a in answers):
            continue
        older = [a.label for a in answers]
        old = votes.consensus(spec, older)
        if old is None:
            continue
        if label and (label not in old if spec.multiple else old != label):
            continue
        if regex is not None and not regex.search(_text_of(texts[item_id], spec)):
            continue
        chosen.append((item_id, old))
    if not chosen:
        raise ValidationFailed(
            "The relabel selection found no item labeled under an older guideline version."
        )
    items = Item.objects.in_bulk([item_id for item_id, _ in chosen])
    with transaction.atomic():
        campaign = RelabelCampaign.objects.create(
            version=version,
            label=label,
            pattern=pattern,
            created_by=created_by if created_by is not None and created_by.pk else None,
            created_at=timezone.now(),
        )
        tasks = [
            {**task_data(items[item_id], guideline_version=version.version), "relabel_campaign": campaign.id}
            for item_id, _ in chosen
        ]
        try:
            task_ids = connection.get_gateway().import_tasks(project_id=project.ls_id(), tasks=tasks)
        except LabelStudioError as exc:
            raise upstream_error(exc, "Label Studio refused the relabel tasks") from exc
        RelabelTask.objects.bulk_create(
            RelabelTask(campaign=campaign, item_id=item_id, old_label=_as_stored(old), ls_task_id=task_id)
            for (item_id, old), task_id in zip(chosen, task_ids, strict=True)
        )
    return campaign


def campaign_progress(campaign: RelabelCampaign) -> dict[str, Any]:
    """Per task: queued / changed / unchanged, and the counts."""
    project = campaign.version.project
    spec = spec_of(project.kind)
    tasks = list(campaign.tasks.order_by("item_id"))
    counted = votes.counted_answers(project=project, spec=spec, item_ids=[t.item_id for t in tasks])
    rows = []
    for task in tasks:
        under = [
            a.label for a in counted.get(task.item_id, []) if a.guideline_version == campaign.version.version
        ]
        new = votes.consensus(spec, under) if under else None
        old = spec.normalized(task.old_label)
        status = "queued" if new is None else "changed" if new != old else "unchanged"
        rows.append(
            {
                "item_id": task.item_id,
                "ls_task_id": task.ls_task_id,
                "old_label": task.old_label,
                "new_label": None if new is None else _as_stored(new),
                "status": status,
            }
        )
    counts = {name: sum(r["status"] == name for r in rows) for name in STATUSES}
    return {
        "id": campaign.id,
        "guideline_version": campaign.version.version,
        "relabel_label": campaign.label,
        "relabel_pattern": campaign.pattern,
        "created_at": campaign.created_at,
        "counts": {**counts, "done": counts["changed"] + counts["unchanged"], "total": len(rows)},
        "tasks": rows,
    }
