from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """Every test here: the cheap featurizer and private folders (tests/conftest.py)."""
