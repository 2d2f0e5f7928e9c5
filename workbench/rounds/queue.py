"""Label Studio holds the queue, not the pool: push what the queue needs, then order it.

The Community edition orders a project by predictions: with ``Uncertainty sampling`` and the
project's ``model_version`` set, it serves only tasks that have a prediction of that version,
lowest ``score`` first (scores must lie in [0, 1]). So each round predicts every open task under a
new version (its rank in the round's order, scaled into [0, 1), is the score) and only then
switches the project to it.

Rounds score their order in ``[HEAD, 1)``; ``[0, HEAD)`` is kept for follow-up tasks that go
ahead of it (a relabel campaign's, in its own order: ``queue_put_first``), so a campaign need
not re-predict the whole queue and the next round does not have to know about campaigns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from workbench.errors import UpstreamUnavailable, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError, Prediction
from workbench.projects.models import Item, Project
from workbench.projects.services import items_push
from workbench.rounds.models import Round

HEAD = 0.5


@dataclass(frozen=True)
class Published:
    pushed: int
    predicted: int


def queue_publish(
    *,
    project: Project,
    ordered_item_ids: Sequence[int] | NDArray[np.int64],
    push_count: int,
    model_version: str,
    follow_up_tasks: Mapping[int, int] | None = None,
) -> Published:
    """Push the first ``push_count`` items of the order that Label Studio lacks, predict every
    ordered item it holds (scores rise with the rank: the first is served first) and switch the queue to
    ``model_version``. Items it holds but that are not in the order (held out for validation,
    fully annotated) get no prediction of this version and are therefore never served; relabel
    campaigns' follow-ups still waiting for an answer keep their place ahead of the order.
    ``follow_up_tasks`` ({item id: task id}): items served through a follow-up task instead of
    their own (full) one (workbench/rounds/follow_ups.py)."""
    ordered = np.asarray(ordered_item_ids, dtype=np.int64)
    head = ordered[:push_count].tolist()
    missing = list(Item.objects.filter(id__in=head, ls_task_id__isnull=True).values_list("id", flat=True))
    pushed = items_push(project=project, item_ids=missing) if missing else 0
    # Label Studio holds the queue only (about 100k tasks at most), so this map stays small.
    task_of = dict(
        Item.objects.filter(project=project, ls_task_id__isnull=False).values_list("id", "ls_task_id")
    )
    task_of.update(follow_up_tasks or {})
    # Label Studio silently drops a prediction whose score is outside [0, 1], so the rank is
    # scaled into [HEAD, 1): still distinct and in order (float64) for millions of items. Only
    # the ranks of items it holds are visited (a few thousand of a million-item order).
    n = len(ordered)
    held = np.flatnonzero(np.isin(ordered, np.fromiter(task_of, dtype=np.int64, count=len(task_of))))
    predictions = [
        Prediction(task_id=cast(int, task_of[item_id]), score=HEAD + (1 - HEAD) * rank / n)
        for rank, item_id in zip(held.tolist(), ordered[held].tolist(), strict=True)
    ]
    if not predictions:
        raise UpstreamUnavailable(
            "No item of the queue is in Label Studio; nothing to order.", permanent=True
        )
    # Label Studio would stop serving follow-ups without a prediction of the new version.
    from workbench.guidelines.campaigns import queued_follow_ups  # late: guidelines builds on rounds

    first = queued_follow_ups(project=project)
    predictions += [Prediction(task_id=t, score=HEAD * rank / len(first)) for rank, t in enumerate(first)]
    gateway = connection.get_gateway()
    try:
        gateway.create_predictions(
            project_id=project.ls_id(), predictions=predictions, model_version=model_version
        )
        gateway.set_queue_order(project_id=project.ls_id(), model_version=model_version)
    except LabelStudioError as exc:
        raise upstream_error(exc, "Label Studio refused the queue order") from exc
    return Published(pushed=pushed, predicted=len(predictions))


def queue_put_first(*, project: Project, ordered_task_ids: Sequence[int]) -> str:
    """Serve these (new, follow-up) tasks before the rounds' order, first one first. With a
    round's order in force they get predictions of its version scored in ``[0, HEAD)``;
    without one Label Studio serves by task id, so tasks imported in this order are already
    served in it. Returns the model version used ("" for none). Raises LabelStudioError."""
    current = (
        Round.objects.filter(project=project, status=Round.Status.DONE)
        .order_by("-number")
        .values_list("model_version", flat=True)
        .first()
    )
    if not current or not ordered_task_ids:
        return ""
    n = len(ordered_task_ids)
    connection.get_gateway().create_predictions(
        project_id=project.ls_id(),
        predictions=[Prediction(task_id=t, score=HEAD * rank / n) for rank, t in enumerate(ordered_task_ids)],
        model_version=current,
    )
    return current
