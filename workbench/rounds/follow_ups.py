"""Follow-up tasks: more annotators for an item than the project's ``annotators_per_item``.

Label Studio's Community edition serves a task to ``maximum_annotations`` different users, then
marks it labeled; there is no per-task overlap and a user never gets a task twice. So an item
whose own task is full but whose votes are split (``split_votes``) gets a **follow-up task**: a
new task for the same item, as the review loop and relabel campaigns do. Its data is the item's
own task data (the same ``item_id``, the same shown sides, the guideline version in force) plus
``queue_follow_up`` (the round that made it), so ingest maps its answers to the item with the
item's recorded sides, like any other answer. The vote policy then counts each annotator's
newest answer per item: a new annotator adds a vote; one who answered the item before replaces
their earlier answer (still one vote).

A follow-up is served to up to ``annotators_per_item`` users (Label Studio's overlap is set per
project). A round reuses an item's follow-up until that many answers arrived after it was made,
and offers follow-ups only to items below the cap (``max_annotators_per_item``), so an item ends
at most ``annotators_per_item - 1`` answers over the cap.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from workbench import votes
from workbench.errors import upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import QUEUE_FOLLOW_UP, task_data
from workbench.rounds.models import QueueFollowUp, Round


def follow_ups_open(*, project: Project, round_: Round, item_ids: Sequence[int]) -> dict[int, int]:
    """The Label Studio task each of ``item_ids`` (items whose own task is full) is served
    through: its newest follow-up while that still has room, else a new one made now.
    Returns ``{item_id: ls_task_id}``; nothing is recorded if Label Studio refuses."""
    if not item_ids:
        return {}
    newest: dict[int, QueueFollowUp] = {}
    for follow_up in QueueFollowUp.objects.filter(project=project, item_id__in=list(item_ids)).order_by(
        "created_at", "id"
    ):
        newest[follow_up.item_id] = follow_up
    counted = votes.counted_answers(project=project, spec=kinds.spec_of(project.kind), item_ids=list(newest))
    out: dict[int, int] = {}
    for item_id, follow_up in newest.items():
        since = [
            a
            for a in counted.get(item_id, [])
            if a.created_at is not None and a.created_at >= follow_up.created_at
        ]
        if len(since) < project.annotators_per_item:
            out[item_id] = follow_up.ls_task_id
    new = [item_id for item_id in item_ids if item_id not in out]
    if not new:
        return out
    from workbench.guidelines.selectors import current_version  # late: guidelines builds on projects

    version = current_version(project)
    items = Item.objects.select_related("project").in_bulk(new)
    tasks = [{**task_data(items[i], guideline_version=version), QUEUE_FOLLOW_UP: round_.id} for i in new]
    try:
        task_ids = connection.get_gateway().import_tasks(project_id=project.ls_id(), tasks=tasks)
    except LabelStudioError as exc:
        raise upstream_error(exc, "Label Studio refused the follow-up tasks") from exc
    now = timezone.now()
    with transaction.atomic():
        QueueFollowUp.objects.bulk_create(
            QueueFollowUp(project=project, item_id=i, round=round_, ls_task_id=t, created_at=now)
            for i, t in zip(new, task_ids, strict=True)
        )
    out.update(zip(new, task_ids, strict=True))
    return out
