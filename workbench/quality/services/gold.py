"""Gold items: items with a known answer, chosen at the project's gold rate among the pool.

They are chosen uniformly at random among items that have a known answer, so in the oldest-first
push order they are spread through the queue at that rate; annotators cannot tell them apart
(task data never carries the answer). A chosen gold item stays gold.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from workbench.projects.models import Item, Project
from workbench.quality.models import GoldItem
from workbench.quality.services.settings import quality_settings_get


def gold_items_select(*, project: Project) -> int:
    """Top up the project's gold items to ``gold_rate`` of its pool; returns how many it has."""
    config = quality_settings_get(project=project)
    with transaction.atomic():
        pool = Item.objects.filter(project=project).count()
        have = GoldItem.objects.filter(project=project).count()
        want = int(round(config.gold_rate * pool))
        if want <= have:
            return have
        candidates = list(
            Item.objects.filter(project=project, gold__isnull=False, gold_check__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
        # Only the stored seed drives the draw, so it replays the same whatever the database ids.
        rng = np.random.default_rng([config.seed, have])
        chosen = rng.permutation(len(candidates))[: want - have]
        GoldItem.objects.bulk_create(
            [GoldItem(project=project, item_id=candidates[i]) for i in sorted(chosen)], ignore_conflicts=True
        )
        return GoldItem.objects.filter(project=project).count()
