"""The local Label Studio lifecycle (``workbench.labelstudio.server``): real servers where it
matters, a stand-in executable where only our own bookkeeping is under test."""

from __future__ import annotations

import contextlib
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


@pytest.fixture(scope="module")
def lifecycle_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir of this module's own for the tests that stop and restart a server: never the
    shared var/ls-test. Made once per module, so only its first start pays for migrations."""
    data_dir = tmp_path_factory.mktemp("ls-lifecycle")
    yield data_dir
    server.stop(data_dir)


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
def busy_ports() -> Iterator[tuple[int, int]]:
    """A port something else listens on, and the next one busy too: the machine where Label
    Studio's own single hop to the next port ended in "That port is already in use"."""
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(socket.socket())
        first.bind(("127.0.0.1", 0))
        first.listen()
        port = first.getsockname()[1]
        with contextlib.suppress(OSError):  # if we cannot bind it, someone else holds it: busy as well
            second = stack.enter_context(socket.socket())
            second.bind(("127.0.0.1", port + 1))
            second.listen()
        yield port, port + 1


@pytest.mark.label_studio
def test_a_server_is_found_on_the_port_it_really_took_and_stops(
    lifecycle_dir: Path, busy_ports: tuple[int, int]
) -> None:
    server.stop(lifecycle_dir)
    try:
        info = server.ensure_running(lifecycle_dir, busy_ports[0])
        assert info.started_by_us
        assert info.port not in busy_ports  # we chose a free port; Label Studio did not hop
        assert "Trying to start at" not in (lifecycle_dir / "server.log").read_text()
        assert whoami(info)["email"] == info.username

        again = server.ensure_running(lifecycle_dir, busy_ports[0])
        assert (again.pid, again.url, again.started_by_us) == (info.pid, info.url, False)
    finally:
        assert server.stop(lifecycle_dir) is True
    assert server.status(lifecycle_dir) is None
    assert not (lifecycle_dir / "state.json").exists()
    assert server.stop(lifecycle_dir) is False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{info.url}/health", timeout=2)


@pytest.mark.label_studio
def test_a_port_taken_before_the_server_binds_it_is_given_up_for_another(
    lifecycle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bound but not listening: Label Studio's connect-based check finds the port free, then
    # runserver's bind fails -- the race of a port taken between choosing it and binding it.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        taken = blocker.getsockname()[1]
        chosen: list[int] = []
        real_free_port = server.free_port

        def losing_the_race_once(preferred: int) -> int:
            chosen.append(taken if not chosen else real_free_port(preferred))
            return chosen[-1]

        monkeypatch.setattr(server, "free_port", losing_the_race_once)
        server.stop(lifecycle_dir)
        try:
            info = server.ensure_running(lifecycle_dir, taken)
            assert len(chosen) == 2 and chosen[0] == taken
            assert info.port == chosen[1] != taken
            assert "That port is already in use" in (lifecycle_dir / "server.log.1").read_text()
            assert whoami(info)["email"] == info.username
        finally:
            server.stop(lifecycle_dir)


@pytest.mark.label_studio
def test_a_restarted_server_keeps_its_credentials(lifecycle_dir: Path) -> None:
    first = server.ensure_running(lifecycle_dir, TEST_PORT + 1)
    server.stop(lifecycle_dir)
    try:
        second = server.ensure_running(lifecycle_dir, TEST_PORT + 1)
        assert second.pid != first.pid and second.started_by_us
        assert (second.token, second.password) == (first.token, first.password)
        assert whoami(second)["email"] == second.username
    finally:
        server.stop(lifecycle_dir)


@pytest.mark.label_studio
def test_a_shared_server_is_stopped_by_the_last_sharer_to_leave(lifecycle_dir: Path) -> None:
    server.stop(lifecycle_dir)
    with server.shared(lifecycle_dir, TEST_PORT + 1) as info:
        assert info.started_by_us
        other_session = (
            "from workbench.labelstudio import server\n"
            f"with server.shared(server.Path({str(lifecycle_dir)!r})) as info:\n"
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
        with server.shared(lifecycle_dir, TEST_PORT + 1) as nested:
            assert nested.pid == info.pid
        still = server.status(lifecycle_dir)
        assert still is not None and still.pid == info.pid  # neither sharer stopped it
    assert server.status(lifecycle_dir) is None


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


def stand_in_label_studio(venv: Path, script: str) -> Path:
    executable = venv / "bin" / "label-studio"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n" + script)
    executable.chmod(0o755)
    return executable


def test_a_server_whose_port_is_always_taken_gives_up_after_a_bounded_number_of_ports(
    tmp_path: Path, busy_ports: tuple[int, int]
) -> None:
    ports = tmp_path / "ports"
    stand_in_label_studio(
        tmp_path / "venv",
        'while [ $# -gt 0 ]; do [ "$1" = --port ] && echo "$2" >> ' + f"{ports}; shift; done\n"
        "echo 'Error: That port is already in use.' >&2\nexit 1\n",
    )

    with pytest.raises(
        ServerError, match=f"lost its port to another process {server.MAX_START_ATTEMPTS} times"
    ):
        server.start(tmp_path / "data", busy_ports[0], venv=tmp_path / "venv", timeout=60)
    tried = [int(p) for p in ports.read_text().split()]
    assert len(tried) == server.MAX_START_ATTEMPTS
    assert busy_ports[0] not in tried  # the asked port was busy, so it was never handed over
    assert server.status(tmp_path / "data") is None
    assert not (tmp_path / "data" / "state.json").exists()


def test_a_busy_port_is_never_chosen(busy_ports: tuple[int, int]) -> None:
    assert server.free_port(busy_ports[0]) != busy_ports[0]
    with socket.socket() as bound_only:  # bound, not listening: taken all the same
        bound_only.bind(("127.0.0.1", 0))
        port = bound_only.getsockname()[1]
        assert server.free_port(port) != port
