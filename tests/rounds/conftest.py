from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def hashed_features(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Rounds in tests embed with the cheap hashed featurizer, into a cache of their own."""
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    settings.ROUND_MODELS_DIR = tmp_path / "round-models"
    return settings.EMBEDDINGS_DIR
