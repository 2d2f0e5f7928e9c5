"""Real headless Chromium for the page tests: Debian's browser driven by Playwright (never a
downloaded one), with the flags that keep it off the network. The fixture is ``browser_page``
in ``tests/conftest.py``."""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def require_chromium() -> None:
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run bin/setup (or apt-get install chromium)")


def assert_not_blank(png: bytes, name: str) -> None:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    assert pixels.std() > 10, f"{name} looks blank (pixel std {pixels.std():.1f})"
