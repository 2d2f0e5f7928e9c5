"""What a round reads of a project: the bulk read and the per-item rules agree item by item."""

from __future__ import annotations

import numpy as np
import pytest

from tests import factories
from tests.rounds.helpers import annotate, toxicity_pool
from workbench.projects.models import Item
from workbench.rounds.labels import in_validation_slice
from workbench.rounds.services import _feature_rows
from workbench.rounds.snapshot import snapshot_take

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_gateway")]


def test_items_without_gold_or_answers_join_the_pool_and_the_others_follow_the_rules() -> None:
    project = factories.project("toxicity_binary", annotators_per_item=2)
    items = toxicity_pool(project, 40)
    Item.objects.filter(id__in=[i.id for i in items[20:]]).update(gold=None)  # half without gold
    for item in items[20:26]:  # one answer each: trained on, still in the pool for a second
        annotate(item, "toxic", ls_user_id=1001)
    for item in items[26:29]:  # two answers: trained on, out of the pool
        annotate(item, "toxic", ls_user_id=1001)
        annotate(item, "toxic", ls_user_id=1002)

    snap = snapshot_take(project=project, validation_percent=30)

    assert snap.item_ids == [i.id for i in items]
    assert snap.texts == [[i.data["text"] for i in items]]
    held_out = [p for p in range(20) if in_validation_slice(items[p].content_hash, 30)]
    assert held_out and snap.validation == held_out
    assert snap.train == list(range(20, 29))
    pool = [p for p in range(40) if p not in held_out and p not in range(26, 29)]
    assert snap.pool.tolist() == pool
    assert snap.pool_gold.tolist() == [p < 20 for p in pool]
    assert snap.pool_answered.tolist() == [int(20 <= p < 26) for p in pool]
    assert snap.pool_directions is not None
    toxic = [1.0, 0.0]  # the kind's directions: toxic, non-toxic
    expected = [toxic if 20 <= p < 26 else [0.0, 0.0] for p in pool]
    assert snap.pool_directions.tolist() == expected
    assert snap.pool_votes == {pool.index(p): {1001: 1} for p in range(20, 26)}


def test_a_rounds_feature_rows_put_the_pool_first() -> None:
    project = factories.project("toxicity_binary")
    items = toxicity_pool(project, 12)
    for item in items[3:6]:
        annotate(item, item.gold)  # trained on, and (one annotator each) out of the pool
    snap = snapshot_take(project=project, validation_percent=0)

    needed, row = _feature_rows(snap)

    assert needed == [0, 1, 2, 6, 7, 8, 9, 10, 11, 3, 4, 5]
    assert row == {3: 9, 4: 10, 5: 11}
    assert np.array_equal(np.asarray(needed[: len(snap.pool)]), snap.pool)
