"""The one place the triage opens a relabel campaign over an explicit list of items.

``workbench.guidelines.campaigns.campaign_open`` selects by label and regex among items labeled
under older versions, so it cannot take a feedback sample (mostly new, unlabeled items). Until
the guidelines app opens a campaign over given item ids, this function does what
``campaign_open`` does after its selection -- the same rows (``RelabelCampaign``,
``RelabelTask``) and the same follow-up task data -- so ``campaign_progress`` tracks it like any
other campaign. Nothing else in the incidents app opens a campaign.

Switching (branch ``wp-campaigns`` adds it): the body becomes ``campaign_open(version=version,
selection=Selection(item_ids=tuple(item_ids)), created_by=created_by)`` and ``old_labels`` goes
away: there an item's old label is its older answers' consensus (none for a new item, whose
answered task counts as ``labeled``), not the model's decision, so the campaign counts in the
report and its tests change meaning; the false-positive and false-negative figures do not read
the campaign's statuses.

``old_labels`` are the deployed model's decisions (its score against its threshold): a task the
annotators answer differently is ``changed``, i.e. the model was wrong under the current guideline.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from workbench.errors import ValidationFailed, upstream_error
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign, RelabelTask
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.models import Item
from workbench.projects.services import task_data


def campaign_open_over_items(
    *,
    version: GuidelineVersion,
    item_ids: Sequence[int],
    old_labels: Sequence[str],
    created_by: User | None,
) -> RelabelCampaign:
    """One follow-up task per item under ``version``; nothing is recorded if Label Studio refuses.
    Call inside the caller's transaction so the caller's own rows go with it."""
    if not item_ids:
        raise ValidationFailed("The relabel sample is empty.")
    items = Item.objects.select_related("project").in_bulk(list(item_ids))
    with transaction.atomic():
        campaign = RelabelCampaign.objects.create(
            version=version,
            created_by=created_by if created_by is not None and created_by.pk else None,
            created_at=timezone.now(),
        )
        tasks = [
            {**task_data(items[i], guideline_version=version.version), "relabel_campaign": campaign.id}
            for i in item_ids
        ]
        try:
            task_ids = connection.get_gateway().import_tasks(project_id=version.project.ls_id(), tasks=tasks)
        except LabelStudioError as exc:
            raise upstream_error(exc, "Label Studio refused the relabel tasks") from exc
        RelabelTask.objects.bulk_create(
            RelabelTask(campaign=campaign, item_id=i, old_label=old, ls_task_id=task_id)
            for i, old, task_id in zip(item_ids, old_labels, task_ids, strict=True)
        )
    return campaign
