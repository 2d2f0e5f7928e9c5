from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.labelstudio import connection

pytest_plugins = ["tests.labelstudio_plugin"]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with an empty Django cache. The database rolls back after each test but
    the in-process cache does not, and a key made of row ids and counts (the guideline
    statistics') can then match a later test's rows: SQLite hands out the same ids again."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def fake_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The in-memory Label Studio, for fast service and API tests."""
    from tests.fakes import FakeGateway

    gateway = FakeGateway()
    monkeypatch.setattr(connection, "get_gateway", lambda: gateway)
    monkeypatch.setattr(connection, "credentials", lambda: ("http://label-studio.test", "token"))
    yield gateway


@pytest.fixture
def real_gateway(monkeypatch: pytest.MonkeyPatch, settings, label_studio):  # type: ignore[no-untyped-def]
    """Point the workbench at the real Label Studio started for this test session."""
    settings.LABEL_STUDIO_URL = label_studio.url
    settings.LABEL_STUDIO_API_KEY = label_studio.token
    connection.reset()
    yield connection.get_gateway()
    connection.reset()


@pytest.fixture
def hashed_features(settings, tmp_path):  # type: ignore[no-untyped-def]
    """The cheap featurizer (hashed n-grams, no torch), and a private embedding cache and
    releases folder: what most service and end-to-end tests want (opt in with
    ``pytest.mark.usefixtures("hashed_features")`` or an autouse fixture that asks for it)."""
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.ROUND_MODELS_DIR = tmp_path / "round-models"


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A page of a real headless Chromium (tests/browser.py)."""
    from tests.browser import CHROMIUM, FLAGS, VIEWPORT, require_chromium

    require_chromium()
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are
    # ours, made between browser steps, not from inside that loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport=VIEWPORT)
        yield page
        browser.close()
