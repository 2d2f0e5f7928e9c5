"""A finished round keeps its trained model (workbench/rounds/round_model.py): the file loads
back and scores the round's own items as the round did; a round without a model, a failed
write and a changed featurizer each leave a reason instead of scores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests import factories
from tests.fakes import FakeGateway
from tests.rounds.helpers import annotate_with_gold, toxicity_pool
from workbench.projects.models import Item
from workbench.rounds.models import Round
from workbench.rounds.round_model import (
    RoundModel,
    round_model_load,
    round_model_path,
    round_model_proba,
)
from workbench.rounds.services import round_config_update, round_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**kwargs):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_start(trigger="api", **kwargs)
        round_.refresh_from_db()
        return round_

    return run


def model_round(start, project) -> Round:  # type: ignore[no-untyped-def]
    items = toxicity_pool(project, 90)
    round_config_update(project=project, validation_percent=30)
    annotate_with_gold(items[:60])
    round_ = start(project=project, strategy="margin", batch_size=10, buffer_size=0, seed=3)
    assert round_.status == "done", round_.error
    return round_


def test_a_round_keeps_its_model_and_it_scores_as_the_round_did(
    fake_gateway: FakeGateway, start, settings
) -> None:
    project = factories.project()
    round_ = model_round(start, project)
    path = round_model_path(round_.id)
    assert path.parent == Path(settings.ROUND_MODELS_DIR) and path.exists()
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]  # written atomically

    stored = round_model_load(round_)
    assert isinstance(stored, RoundModel)
    assert (stored.round_id, stored.kind, stored.featurizer) == (
        round_.id,
        "toxicity_binary",
        round_.parameters["featurizer"],
    )
    # The round's own P(toxic) of its selected items, and of its validation slice.
    selected = list(round_.selections.order_by("rank").values_list("item_id", "predicted"))
    data = Item.objects.in_bulk([i for i, _ in selected])
    proba = round_model_proba(stored, [data[i].data for i, _ in selected])
    assert not isinstance(proba, str)
    assert proba[:, 1] == pytest.approx([p for _, p in selected], abs=1e-6)
    slice_ids = round_.validation_scores["item_ids"]
    data = Item.objects.in_bulk(slice_ids)
    proba = round_model_proba(stored, [data[i].data for i in slice_ids])
    assert not isinstance(proba, str)
    assert proba[:, 1] == pytest.approx(round_.validation_scores["p"], abs=1e-6)
    assert not np.all(proba[:, 1] == proba[0, 1])  # a trained model, not a prior

    other = RoundModel(stored.round_id, stored.kind, "hashed:some-other-featurizer", stored.model)
    reason = round_model_proba(other, [data[slice_ids[0]].data])
    assert reason == (
        "the round's model was trained on hashed:some-other-featurizer features and the featurizer "
        f"now is {stored.featurizer}"
    )


def test_a_round_without_a_model_or_whose_write_failed_has_a_reason_instead(
    fake_gateway: FakeGateway, start, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = factories.project()
    toxicity_pool(project, 30)
    cold = start(project=project, strategy="seed_keyword", batch_size=5, seed=1)
    assert cold.status == "done" and not round_model_path(cold.id).exists()
    assert round_model_load(cold) == (
        f"round {cold.number} has no stored model (a round from before models were kept, one that "
        "trained no model, or its model could not be written)"
    )

    real_replace = os.replace

    def refuse(src: str, dst: str) -> None:  # the disk is full when the model is renamed into place
        if str(dst).endswith(".pkl"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    other = factories.project()
    failed_write = model_round(start, other)  # the round is done all the same
    folder = round_model_path(failed_write.id).parent
    assert not round_model_path(failed_write.id).exists()
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]  # nothing half-written is left
    assert "has no stored model" in str(round_model_load(failed_write))

    monkeypatch.undo()
    round_model_path(failed_write.id).write_bytes(b"not a pickle")
    assert str(round_model_load(failed_write)).startswith(
        f"round {failed_write.number}'s stored model could not be read (UnpicklingError"
    )
