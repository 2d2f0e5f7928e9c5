import pytest


@pytest.fixture(autouse=True)
def _hashed_features(settings, tmp_path):  # type: ignore[no-untyped-def]
    """The cheap featurizer (no torch) and a private embedding cache."""
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
