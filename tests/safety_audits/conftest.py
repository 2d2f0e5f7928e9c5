from __future__ import annotations

import pytest

from tests.quality.test_browser import browser_page  # noqa: F401  (the Chromium fixture, shared)


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """Every test here: the cheap featurizer and private folders (tests/conftest.py)."""
