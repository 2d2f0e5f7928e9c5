from __future__ import annotations

from pathlib import Path

import pytest

from tests.quality.test_browser import browser_page  # noqa: F401  (the Chromium fixture, shared)


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The cheap featurizer (no torch) and a private embedding cache and releases folder."""
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    settings.RELEASES_DIR = tmp_path / "releases"
