"""The one round test with the real embedding model (all-MiniLM-L6-v2, the packaged offline copy,
on the default backend, openvino-int8: exported and compressed on first use): items are
embedded once, then read from the cache."""

from __future__ import annotations

import pytest

import active_learning as al
from tests import factories
from tests.rounds.helpers import annotate_with_gold, toxicity_pool
from workbench.rounds.services import round_start

pytestmark = pytest.mark.django_db


def test_rounds_embed_each_item_once_with_the_real_model(
    fake_gateway,
    settings,
    hashed_features,
    django_capture_on_commit_callbacks,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    settings.WORKBENCH_FEATURIZER = "sentence-transformers"
    project = factories.project()
    items = toxicity_pool(project, 24)
    annotate_with_gold(items[:12])
    encoded: list[int] = []
    real_encode = al.SentenceTransformerFeaturizer.encode

    def counting_encode(self, texts, batch_size=64):  # type: ignore[no-untyped-def]
        encoded.append(len(texts))
        return real_encode(self, texts, batch_size)

    monkeypatch.setattr(al.SentenceTransformerFeaturizer, "encode", counting_encode)

    rounds = []
    for seed in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            round_ = round_start(project=project, trigger="api", strategy="margin", batch_size=4, seed=seed)
        rounds.append(round_)
    for round_ in rounds:
        round_.refresh_from_db()
        assert round_.status == "done", round_.error
        assert round_.parameters["featurizer"] == f"{al.DEFAULT_MODEL}#openvino-int8"  # the default
    assert sum(encoded) == 24  # the second round read every vector from the cache
    assert any(hashed_features.rglob("*.vec.npy"))
