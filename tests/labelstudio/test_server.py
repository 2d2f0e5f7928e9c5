"""The local Label Studio lifecycle (``workbench.labelstudio.server``): real servers where it
matters, a stand-in executable where only our own bookkeeping is under test."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.labelstudio_plugin import TEST_DATA_DIR, TEST_PORT
from workbench.labelstudio import server
from workbench.labelstudio.server import ServerError, ServerInfo

# A second, throwaway server for the tests that stop and restart one; kept between runs like
# var/ls-test, so only the very first run pays for migrations.
LIFECYCLE_DATA_DIR = server.REPO_ROOT / "var" / "ls-test-lifecycle"
LIFECYCLE_PORT = TEST_PORT + 1


def whoami(info: ServerInfo) -> dict[str, object]:
    headers = {"Authorization": f"Token {info.token}"}
    response = httpx.get(f"{info.url}/api/current-user/whoami", headers=headers)
    response.raise_for_status()
    return dict(response.json())


# --- against the session's server ----------------------------------------------------------


@pytest.mark.label_studio
def test_ensure_reuses_the_running_server(label_studio: ServerInfo) -> None:
    again = server.ensure_running(TEST_DATA_DIR, TEST_PORT)
    assert again.started_by_us is False
    assert (again.url, again.pid, again.token, again.password) == (
        label_studio.url,
        label_studio.pid,
        label_studio.token,
        label_studio.password,
    )
    assert whoami(again)["email"] == label_studio.username


@pytest.mark.label_studio
def test_status_reports_the_running_server(label_studio: ServerInfo) -> None:
    info = server.status(TEST_DATA_DIR)
    assert info is not None and (info.url, info.pid) == (label_studio.url, label_studio.pid)


@pytest.mark.label_studio
def test_credentials_and_state_are_private_files(label_studio: ServerInfo) -> None:
    for name in ("credentials.json", "state.json"):
        mode = stat.S_IMODE((TEST_DATA_DIR / name).stat().st_mode)
        assert mode == 0o600, name
    state = json.loads((TEST_DATA_DIR / "state.json").read_text())
    assert state["pid"] == label_studio.pid and state["url"] == label_studio.url
    assert state["token"] == label_studio.token


@pytest.mark.label_studio
def test_the_cli_prints_shell_exports(label_studio: ServerInfo) -> None:
    command = ["status", "--env", "--data-dir", str(TEST_DATA_DIR)]
    completed = subprocess.run(
        [sys.executable, "-m", "workbench.labelstudio.server", *command],
        cwd=server.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.splitlines() == [
        f"export LABEL_STUDIO_URL={label_studio.url}",
        f"export LABEL_STUDIO_API_KEY={label_studio.token}",
    ]


# --- a server of our own, stopped and restarted -------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.label_studio
def test_a_server_is_found_on_the_port_it_really_took_and_stops(busy_port: int) -> None:
    server.stop(LIFECYCLE_DATA_DIR)
    try:
        info = server.ensure_running(LIFECYCLE_DATA_DIR, busy_port)
        assert info.started_by_us
        assert info.port != busy_port  # Label Studio moved on silently; we noticed
        assert whoami(info)["email"] == info.username

        again = server.ensure_running(LIFECYCLE_DATA_DIR, busy_port)
        assert (again.pid, again.url, again.started_by_us) == (info.pid, info.url, False)
    finally:
        assert server.stop(LIFECYCLE_DATA_DIR) is True
    assert server.status(LIFECYCLE_DATA_DIR) is None
    assert not (LIFECYCLE_DATA_DIR / "state.json").exists()
    assert server.stop(LIFECYCLE_DATA_DIR) is False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{info.url}/health", timeout=2)


@pytest.mark.label_studio
def test_a_restarted_server_keeps_its_credentials() -> None:
    first = server.ensure_running(LIFECYCLE_DATA_DIR, LIFECYCLE_PORT)
    server.stop(LIFECYCLE_DATA_DIR)
    try:
        second = server.ensure_running(LIFECYCLE_DATA_DIR, LIFECYCLE_PORT)
        assert second.pid != first.pid and second.started_by_us
        assert (second.token, second.password) == (first.token, first.password)
        assert whoami(second)["email"] == second.username
    finally:
        server.stop(LIFECYCLE_DATA_DIR)


@pytest.mark.label_studio
def test_a_shared_server_is_stopped_by_the_last_sharer_to_leave() -> None:
    server.stop(LIFECYCLE_DATA_DIR)
    with server.shared(LIFECYCLE_DATA_DIR, LIFECYCLE_PORT) as info:
        assert info.started_by_us
        other_session = (
            "from workbench.labelstudio import server\n"
            f"with server.shared(server.Path({str(LIFECYCLE_DATA_DIR)!r})) as info:\n"
            "    print(info.pid)\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", other_session],
            cwd=server.REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert int(completed.stdout) == info.pid
        with server.shared(LIFECYCLE_DATA_DIR, LIFECYCLE_PORT) as nested:
            assert nested.pid == info.pid
        still = server.status(LIFECYCLE_DATA_DIR)
        assert still is not None and still.pid == info.pid  # neither sharer stopped it
    assert server.status(LIFECYCLE_DATA_DIR) is None


# --- bookkeeping, with no server --------------------------------------------------------------


def test_a_dead_server_is_not_running_and_stop_clears_its_state(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    state = {"pid": gone.pid, "url": "http://127.0.0.1:1", "token": "t", "username": "u", "password": "p"}
    (tmp_path / "state.json").write_text(json.dumps(state))

    assert server.status(tmp_path) is None
    assert server.stop(tmp_path) is False
    assert not (tmp_path / "state.json").exists()


def test_a_server_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    executable = venv / "bin" / "label-studio"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\necho 'django.db.utils.OperationalError: boom' >&2\nexit 3\n")
    executable.chmod(0o755)

    with pytest.raises(ServerError, match="(?s)exited with code 3.*OperationalError: boom"):
        server.start(tmp_path / "data", venv=venv, timeout=30)
    assert server.status(tmp_path / "data") is None


def test_install_skips_pip_when_the_pin_is_unchanged_and_rebuilds_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = tmp_path / "label-studio.txt"
    requirements.write_text("# comment\nlabel-studio==9.9.9\n")
    venv = tmp_path / "venv"
    commands: list[list[str]] = []

    def fake_run(command: list[str]) -> None:
        commands.append(command)
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        for name in ("python", "label-studio"):
            (venv / "bin" / name).touch()

    monkeypatch.setattr(server, "_run", fake_run)

    assert server.install(venv, requirements) == venv / "bin" / "label-studio"
    assert [c[1:3] for c in commands] == [["-m", "venv"], ["-m", "pip"]]
    assert (venv / server.PIN_MARKER).read_text() == "label-studio==9.9.9\n"

    commands.clear()
    server.install(venv, requirements)
    assert commands == []

    (venv / "stale-file").touch()
    requirements.write_text("label-studio==9.9.10\n")
    server.install(venv, requirements)
    assert [c[1:3] for c in commands] == [["-m", "venv"], ["-m", "pip"]]
    assert not (venv / "stale-file").exists()
    assert (venv / server.PIN_MARKER).read_text() == "label-studio==9.9.10\n"
