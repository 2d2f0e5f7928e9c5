"""pytest plugin: the real Label Studio server, started once per test session.

Registered from ``tests/conftest.py`` (``pytest_plugins = ["tests.labelstudio_plugin"]``). The
data dir ``var/ls-test`` is kept between runs: the first start on a fresh dir migrates for about
a minute, later ones take 5-8 s. A server that was already running (say, left up by
``python -m workbench.labelstudio.server ensure --data-dir var/ls-test``) is reused and left
running. Test sessions running at the same time share the server (``server.shared``): the last
one to finish stops it, if one of them started it. Tests must not rely on each other's
state: each creates its own Label Studio project under a unique title and deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.labelstudio import server

TEST_DATA_DIR = server.REPO_ROOT / "var" / "ls-test"
# Not 8080, where a developer's own server (var/label-studio) usually runs. Only a preference: when
# 8089 is busy the server starts on a port the kernel picks free, state.json records it, and every
# session finds it there (tests read the URL from the fixture, never from this constant).
TEST_PORT = 8089


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-ls-webhooks",
        action="store_true",
        help="rewrite tests/data/ls_webhooks/ from the payloads the real Label Studio sends",
    )


@pytest.fixture(scope="session")
def label_studio() -> Iterator[server.ServerInfo]:
    """The running test server: url, admin token, admin email and password."""
    with server.shared(TEST_DATA_DIR, TEST_PORT) as info:
        yield info
