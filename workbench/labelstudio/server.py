"""The local Label Studio server: install, start, find, stop. Standard library only.

This is the one place that knows how to run Label Studio on a developer machine, in CI and in
tests; it imports nothing from Django so a shell script, the demo command and pytest can share it:

    python -m workbench.labelstudio.server ensure            # install if missing, start if down
    python -m workbench.labelstudio.server status --env      # LABEL_STUDIO_URL=... for `eval`
    python -m workbench.labelstudio.server stop

(``python -m`` imports the ``workbench`` package, whose ``__init__`` needs the app's virtualenv;
a bare interpreter can run the file itself: ``python3 -P workbench/labelstudio/server.py ensure``.)

A data dir holds everything one server owns::

    credentials.json   admin email, password and API token, generated once (mode 0600)
    state.json         pid, port, url and credentials of the running server (mode 0600)
    server.log         the server's output (server.log.1: the previous start's)
    home/              a private HOME, so nothing leaks from or into the user's ~/.local
    data/              LABEL_STUDIO_BASE_DATA_DIR: the SQLite database and uploads

Facts this module is built around (Label Studio 1.23.2): it must live in its own virtualenv; it
silently takes the next port when the asked one answers a connect, and exits ("That port is
already in use") when the port it binds is taken all the same, so this module picks a port that
is free itself and starts again on another one if it is taken before the server binds it; the
first start on a fresh data dir
runs migrations for about a minute on two cores, later starts take 5-8 s; the admin's legacy API
token is only honoured when LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN is set on that first start.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "var" / "label-studio"
DEFAULT_VENV = REPO_ROOT / "var" / "ls-venv"
REQUIREMENTS_FILE = REPO_ROOT / "requirements" / "label-studio.txt"
DEFAULT_PORT = 8080
DEFAULT_START_TIMEOUT = 240.0  # first start ~60 s on 2 idle cores; leave room for a busy CI box
# Starts tried when the chosen port is taken before the server binds it (each on a new port).
MAX_START_ATTEMPTS = 5

ADMIN_EMAIL = "admin@workbench.local"
HOST = "127.0.0.1"
PIN_MARKER = ".workbench-requirements"  # inside the venv: the requirements it was built from
# Django's runserver announces the port it really binds (Label Studio may have moved it).
_LISTEN_LINE = re.compile(r"Starting development server at http://[^:/\s]+:(\d+)/")
# What the server writes before it exits because its port was taken (runserver; Label Studio's hop).
_PORT_TAKEN_LINE = re.compile(r"That port is already in use|Could not find an available port")
# Only these are inherited from the caller: Label Studio reads any variable named like one of
# its settings with or without the LABEL_STUDIO_ prefix (DEBUG, HOST, DJANGO_SETTINGS_MODULE,
# DATABASE_URL...), and the app that calls us sets several of those for itself.
_INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SSL_CERT_FILE")
_PROC = Path("/proc")
# Servers this process started: kept so they are reaped (not left as zombies) when stopped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ServerError(RuntimeError):
    """Label Studio could not be installed, started or reached."""


class _PortTaken(ServerError):
    """The server exited because another process took its port first."""


@dataclass(frozen=True)
class ServerInfo:
    url: str
    token: str
    username: str
    password: str
    pid: int
    started_by_us: bool

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclass(frozen=True)
class _Paths:
    """Where one data dir keeps its files."""

    root: Path

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def leases(self) -> Path:
        return self.root / "leases"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def ls_data(self) -> Path:
        return self.root / "data"


# --- install ------------------------------------------------------------------------------


def install(venv: Path = DEFAULT_VENV, requirements: Path = REQUIREMENTS_FILE) -> Path:
    """Install the pinned Label Studio into ``venv`` unless it is already there; returns the
    ``label-studio`` executable. A changed pin rebuilds the venv from scratch, so no package of
    the old version's ~30 exact pins survives the upgrade."""
    venv = Path(venv)
    wanted = _pinned_requirements(requirements)
    executable = venv / "bin" / "label-studio"
    marker = venv / PIN_MARKER
    recorded = marker.read_text() if marker.exists() else None
    if executable.exists() and recorded == wanted:
        return executable
    if recorded is not None and recorded != wanted:
        logger.info("Label Studio pin changed; rebuilding %s", venv)
        shutil.rmtree(venv)
    if not (venv / "bin" / "python").exists():
        logger.info("Creating virtualenv %s", venv)
        _run([sys.executable, "-m", "venv", str(venv)])
    logger.info("Installing %s into %s (a few minutes on a fresh venv)", wanted.strip(), venv)
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
            str(requirements),
        ]
    )
    if not executable.exists():
        raise ServerError(f"pip finished but {executable} is missing")
    marker.write_text(wanted)
    return executable


def _pinned_requirements(requirements: Path) -> str:
    """The requirement lines of ``requirements`` without comments: what the marker records."""
    lines = [line.split("#", 1)[0].strip() for line in Path(requirements).read_text().splitlines()]
    return "\n".join(line for line in lines if line) + "\n"


def _run(command: list[str]) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ServerError(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")


# --- public lifecycle ---------------------------------------------------------------------


def ensure_running(
    data_dir: Path = DEFAULT_DATA_DIR,
    port: int = DEFAULT_PORT,
    *,
    venv: Path = DEFAULT_VENV,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> ServerInfo:
    """The server of ``data_dir``: reused when it is already up and answering (whatever port it
    took), else installed if needed and started on ``port``, or on a free port the kernel picks
    when ``port`` is busy."""
    paths = _prepare(data_dir)
    with _locked(paths.lock):
        running = _running_server(paths)
        if running is not None:
            return running
        executable = install(venv)
        return _start(paths, executable, port, timeout)


def start(
    data_dir: Path = DEFAULT_DATA_DIR,
    port: int = DEFAULT_PORT,
    *,
    venv: Path = DEFAULT_VENV,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> ServerInfo:
    """Like :func:`ensure_running` but never installs: fails when the venv is missing."""
    paths = _prepare(data_dir)
    executable = Path(venv) / "bin" / "label-studio"
    if not executable.exists():
        raise ServerError(f"{executable} not found; run `install` (or `ensure`) first")
    with _locked(paths.lock):
        running = _running_server(paths)
        if running is not None:
            return running
        return _start(paths, executable, port, timeout)


def status(data_dir: Path = DEFAULT_DATA_DIR) -> ServerInfo | None:
    """The running server of ``data_dir`` if it answers with our credentials, else None.
    Read-only: it neither waits for a start in progress nor cleans up after a dead server."""
    state = _read_json(_Paths(Path(data_dir).resolve()).state)
    if state is None or state.get("starting"):
        return None
    info = _recorded_server(state)
    return info if info is not None and _answers(info.url, state) else None


def stop(data_dir: Path = DEFAULT_DATA_DIR, *, timeout: float = 30.0) -> bool:
    """Stop the server of ``data_dir`` (its whole process group); True if one was running."""
    paths = _Paths(Path(data_dir).resolve())
    if not paths.root.exists():
        return False
    with _locked(paths.lock):
        state = _read_json(paths.state)
        stopped = False
        if state is not None and _is_label_studio(state["pid"]):
            _terminate_group(state["pid"], timeout)
            stopped = True
        paths.state.unlink(missing_ok=True)
        return stopped


@contextlib.contextmanager
def shared(
    data_dir: Path = DEFAULT_DATA_DIR,
    port: int = DEFAULT_PORT,
    *,
    venv: Path = DEFAULT_VENV,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> Iterator[ServerInfo]:
    """The server of ``data_dir`` for the length of the block, shared with every process that
    uses it the same way at the same time (parallel test sessions, xdist workers): it is started
    if down, and stopped when the last of them leaves if one of them started it. A server that
    was up before any of them came (a developer's) is left running."""
    paths = _prepare(data_dir)
    # Named by pid (to spot crashed sharers) and a nonce (a process may share twice).
    lease = paths.leases / f"{os.getpid()}.{secrets.token_hex(4)}"
    started_by_sharers = paths.leases / "started"
    # The leases lock is taken before the data dir's own: joining and leaving cannot interleave
    # with another sharer's check-then-stop.
    with _locked(paths.leases / ".lock"):
        lease.touch()
        info = ensure_running(paths.root, port, venv=venv, timeout=timeout)
        if info.started_by_us:
            started_by_sharers.touch()
    try:
        yield info
    finally:
        with _locked(paths.leases / ".lock"):
            lease.unlink(missing_ok=True)
            if started_by_sharers.exists() and not _live_leases(paths):
                stop(paths.root)
                started_by_sharers.unlink()


def _live_leases(paths: _Paths) -> list[Path]:
    """The leases of processes sharing the server now; those of crashed ones are dropped."""
    live = []
    for lease in paths.leases.glob("[0-9]*.*"):
        if _process_exists(int(lease.name.split(".")[0])):
            live.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return live


# --- start --------------------------------------------------------------------------------


def _prepare(data_dir: Path) -> _Paths:
    paths = _Paths(Path(data_dir).resolve())
    for directory in (paths.root, paths.home, paths.ls_data, paths.leases):
        directory.mkdir(parents=True, exist_ok=True)
    # Keeps the data dir (credentials included) out of git wherever it lives.
    gitignore = paths.root / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")
    return paths


def _start(paths: _Paths, executable: Path, port: int, timeout: float) -> ServerInfo:
    """Start the server on ``port`` if it is free, else on a port the kernel says is free; if
    another process takes that port before the server binds it, start again on a new one."""
    credentials = _credentials(paths)
    deadline = time.monotonic() + timeout
    for attempt in range(1, MAX_START_ATTEMPTS + 1):
        chosen = free_port(port if attempt == 1 else 0)
        if chosen != port:
            logger.info("Port %d is not free; starting Label Studio on %d", port, chosen)
        process = _spawn(paths, executable, chosen, credentials)
        try:
            real_port = _wait_until_healthy(paths, process, credentials, deadline - time.monotonic())
        except _PortTaken:
            logger.warning("Port %d was taken before Label Studio bound it (attempt %d)", chosen, attempt)
            _terminate_group(process.pid, 10.0)
            paths.state.unlink(missing_ok=True)
            continue
        except BaseException:  # a timeout, a crash, or Ctrl-C: leave no half-started server
            _terminate_group(process.pid, 10.0)
            paths.state.unlink(missing_ok=True)
            raise
        break
    else:
        raise ServerError(
            f"Label Studio lost its port to another process {MAX_START_ATTEMPTS} times in a row.\n"
            f"Last lines of {paths.log}:\n{_log_tail(paths.log)}"
        )
    if real_port != chosen:
        logger.warning("Port %d was taken; Label Studio moved to %d", chosen, real_port)
    info = ServerInfo(
        url=f"http://{HOST}:{real_port}",
        token=credentials["token"],
        username=credentials["username"],
        password=credentials["password"],
        pid=process.pid,
        started_by_us=True,
    )
    state = asdict(info)
    del state["started_by_us"]
    _write_private_json(paths.state, state)
    return info


def free_port(preferred: int) -> int:
    """``preferred`` if nothing holds it on 127.0.0.1 now, else a port the kernel says is free
    (0 asks the kernel straight away). Free now, not reserved: a caller must cope with losing it."""
    for candidate in (preferred, 0) if preferred else (0,):
        # No SO_REUSEADDR: a port another socket merely binds (or lingers on) counts as taken.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise ServerError(f"no free TCP port on {HOST}")


def _credentials(paths: _Paths) -> dict[str, str]:
    """The admin's credentials, generated on the first start and reused ever after: Label Studio
    only applies them when it creates the admin on a fresh database."""
    existing = _read_json(paths.credentials)
    if existing is not None:
        return existing
    if any(paths.ls_data.glob("*.sqlite3")):
        raise ServerError(
            f"{paths.ls_data} holds a database but {paths.credentials} is missing, so its admin "
            "password is unknown; delete the data dir to start afresh"
        )
    credentials = {
        "username": ADMIN_EMAIL,
        "password": secrets.token_urlsafe(18),
        # 40 hex characters: the shape of Label Studio's own legacy tokens.
        "token": secrets.token_hex(20),
    }
    _write_private_json(paths.credentials, credentials)
    return credentials


def _server_env(paths: _Paths, executable: Path, credentials: dict[str, str]) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
    env["PATH"] = f"{executable.parent}{os.pathsep}{env.get('PATH', os.defpath)}"
    env.update(
        HOME=str(paths.home),
        PYTHONUNBUFFERED="1",  # so the "Starting development server at" line reaches the log
        LABEL_STUDIO_BASE_DATA_DIR=str(paths.ls_data),
        DJANGO_DB="sqlite",
        LABEL_STUDIO_USERNAME=credentials["username"],
        LABEL_STUDIO_PASSWORD=credentials["password"],
        LABEL_STUDIO_USER_TOKEN=credentials["token"],
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        # Webhooks go to the workbench on 127.0.0.1, which SSRF protection refuses with a 403.
        SSRF_PROTECTION_ENABLED="false",
        LABEL_STUDIO_LATEST_VERSION_CHECK="false",
        LABEL_STUDIO_SENTRY_DSN="",
        LABEL_STUDIO_FRONTEND_SENTRY_DSN="",
        # Strangers cannot sign up; create_user goes through the organisation's invite link.
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
    )
    return env


def _spawn(
    paths: _Paths, executable: Path, port: int, credentials: dict[str, str]
) -> subprocess.Popen[bytes]:
    if paths.log.exists():
        paths.log.replace(paths.log.with_name(paths.log.name + ".1"))
    command = [str(executable), "start", "--no-browser", "--internal-host", HOST, "--port", str(port)]
    with paths.log.open("wb") as log:
        # Own session: the server outlives the caller (a shell, a test session) and its whole
        # process group can be stopped later by pid alone.
        process = subprocess.Popen(
            command,
            cwd=paths.root,
            env=_server_env(paths, executable, credentials),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[process.pid] = process
    # Written at once so a concurrent `ensure` waits for this start instead of racing it.
    _write_private_json(paths.state, {"pid": process.pid, "starting": True})
    return process


def _wait_until_healthy(
    paths: _Paths, process: subprocess.Popen[bytes], credentials: dict[str, str], timeout: float
) -> int:
    """Wait until the server answers our token; returns the port it really listens on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if _PORT_TAKEN_LINE.search(_log_tail(paths.log)):
                raise _PortTaken(f"Label Studio exited: its port was taken.\n{_log_tail(paths.log)}")
            raise ServerError(
                f"Label Studio exited with code {process.returncode} while starting.\n"
                f"Last lines of {paths.log}:\n{_log_tail(paths.log)}"
            )
        port = _announced_port(paths.log)
        if port is not None and _answers(f"http://{HOST}:{port}", credentials):
            return port
        time.sleep(0.5)
    raise ServerError(
        f"Label Studio did not become healthy in time.\nLast lines of {paths.log}:\n{_log_tail(paths.log)}"
    )


def _announced_port(log: Path) -> int | None:
    match = _LISTEN_LINE.search(log.read_text(errors="replace"))
    return int(match.group(1)) if match else None


def _log_tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- finding a running server -------------------------------------------------------------


def _running_server(paths: _Paths) -> ServerInfo | None:
    """The server the state file records, if it is alive and answers our credentials; clears
    the state of a dead one. Call it holding the data dir's lock."""
    state = _read_json(paths.state)
    if state is None:
        return None
    if state.get("starting"):
        # Starts hold the lock, so an unfinished one we can see means its starter died.
        if _is_label_studio(state["pid"]):
            _terminate_group(state["pid"], 10.0)
        paths.state.unlink()
        return None
    info = _recorded_server(state)
    if info is None:
        paths.state.unlink()
        return None
    if not _answers(info.url, state):
        # Never start a second server on the same database; a person has to look at this one.
        raise ServerError(
            f"Label Studio (pid {info.pid}) is running but {info.url} does not answer with the "
            f"credentials in {paths.credentials}; stop it first.\n{_log_tail(paths.log)}"
        )
    return info


def _recorded_server(state: dict[str, Any]) -> ServerInfo | None:
    """The server a complete state file describes, if its process still runs."""
    if not _is_label_studio(state["pid"]):
        return None
    return ServerInfo(
        url=state["url"],
        token=state["token"],
        username=state["username"],
        password=state["password"],
        pid=state["pid"],
        started_by_us=False,
    )


def _answers(url: str, credentials: dict[str, Any]) -> bool:
    """True if ``url`` is a Label Studio that knows our admin token (so it is ours)."""
    request = urllib.request.Request(
        f"{url}/api/current-user/whoami",
        headers={"Authorization": f"Token {credentials['token']}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("email") == credentials["username"]


# --- processes ----------------------------------------------------------------------------


def _is_label_studio(pid: int) -> bool:
    """True if ``pid`` is a live Label Studio server (pids get reused, zombies linger)."""
    _reap(pid)
    if not _PROC.exists():  # no procfs (macOS): all we can tell is whether it exists
        return _process_exists(pid)
    try:
        cmdline = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
    stat = _proc_stat(pid)
    return b"label-studio" in cmdline and stat is not None and stat[0] != "Z"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def _reap(pid: int) -> None:
    """Collect ``pid`` if it is a child of this process that exited."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]


def _terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL it after ``timeout`` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not _group_alive(pid):
                return
            time.sleep(0.2)
    raise ServerError(f"Label Studio process group {pid} survived SIGKILL")


def _group_alive(pgid: int) -> bool:
    """True while any process of the group runs. Zombies don't count: the leader stays one
    until whoever started it (maybe another, still running process) collects it."""
    if not _PROC.exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and stat[1] == pgid and stat[0] != "Z":
                return True
    return False


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, process group id) of ``pid`` from procfs, or None if it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may itself hold spaces and parentheses.
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


# --- files --------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """Serialise work on one data dir across processes (pytest and a shell at once)."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with path.open() as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ServerError(f"{path} is not valid JSON ({exc}); delete it") from exc
    return data if isinstance(data, dict) else None


def _write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically with mode 0600 from the start: these files hold passwords and tokens."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    tmp.replace(path)


# --- command line -------------------------------------------------------------------------


def _print_info(info: ServerInfo, as_env: bool) -> None:
    if as_env:
        print(f"export LABEL_STUDIO_URL={info.url}")
        print(f"export LABEL_STUDIO_API_KEY={info.token}")
    else:
        print(json.dumps({**asdict(info), "port": info.port}, indent=2))


def parser() -> argparse.ArgumentParser:
    """The command line's parser (the README's examples are checked against it)."""
    parser = argparse.ArgumentParser(
        prog="python -m workbench.labelstudio.server", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=["install", "start", "stop", "status", "ensure"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT)
    parser.add_argument(
        "--env", action="store_true", help="print `export LABEL_STUDIO_URL=... ` lines for eval"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        if args.command == "install":
            print(install(args.venv))
        elif args.command == "stop":
            print("stopped" if stop(args.data_dir) else "was not running")
        elif args.command == "status":
            info = status(args.data_dir)
            if info is None:
                print("not running", file=sys.stderr)
                return 3  # "not running", as in LSB init scripts
            _print_info(info, args.env)
        else:
            launch = ensure_running if args.command == "ensure" else start
            _print_info(launch(args.data_dir, args.port, venv=args.venv, timeout=args.timeout), args.env)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
