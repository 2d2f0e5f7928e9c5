"""A real Celery worker for tests: a ``celery -A workbench worker`` subprocess on Redis
(``CELERY_TEST_BROKER_URL``), pointed at this test's own database (pytest-django's ``test_``
database) and at the real Label Studio, running this worktree's code (``PYTHONPATH``).

The web side of the test enqueues to the same broker because the fixture switches the Django
settings the Celery app reads (``CELERY_TASK_ALWAYS_EAGER``, ``CELERY_BROKER_URL`` through the
``CELERY`` namespace); nothing runs in the test process. Every wait is a bounded poll for a
condition, and a wait that runs out fails with the worker's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
QUEUE = "celery"  # Celery's default queue: a Redis list of that name


class Worker:
    """``name`` tells two workers of one test apart (their hostnames); ``app`` is the module
    ``celery -A`` loads (workbench's own app, or a test module that adds gates to it)."""

    def __init__(self, env: dict[str, str], *, name: str = "test-worker", app: str = "workbench") -> None:
        self._env = env
        self.name = name
        self.app = app
        self._log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, timeout: float = 90) -> None:
        assert self.process is None or self.process.poll() is not None, "the worker is running"
        self.starts += 1
        log = self._log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                self.app,
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={self.hostname_prefix}@%h",
            ],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the pool's child too
        )
        log.close()
        wait_for(lambda: self._ready(f"{self.hostname_prefix}@"), timeout, "the worker to start", self)

    @property
    def hostname_prefix(self) -> str:
        return f"{self.name}-{os.getpid()}-{self.starts}"

    def _ready(self, hostname: str) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}; its log:\n{self.log()}")
        return any(hostname in line and "ready." in line for line in self.log().splitlines())

    def kill(self) -> None:
        """SIGKILL the worker and its pool, as an OOM killer or a lost machine would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def remove_log(self) -> None:
        self._log.unlink(missing_ok=True)

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def succeeded(self, task_name: str) -> int:
        return sum(task_name in line and "succeeded" in line for line in self.log().splitlines())

    def assert_succeeded(self, task_name: str, times: int, timeout: float = 60) -> None:
        """The worker logged ``times`` successes of the task. A task's effects (rows, counters)
        are visible before it returns and the worker logs "succeeded", so this waits for the log
        line first, then checks there are no more."""
        wait_for(lambda: self.succeeded(task_name) >= times, timeout, f"{times} x {task_name}", self)
        assert self.succeeded(task_name) == times, self.log()[-4000:]


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, worker: Worker | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log = worker.log()[-4000:] if worker is not None else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the worker's log:\n{log}")
        time.sleep(0.2)


def queued() -> int:
    """Messages waiting on the broker's default queue."""
    return int(redis.Redis.from_url(BROKER).llen(QUEUE))


def reset_producer_pool() -> None:
    """Forget the Celery app's broker connections: they were made for the broker URL of their
    time (an earlier test's, or none in eager mode) and would publish there."""
    from workbench.celery import app

    app._pool = None
    app.amqp._producer_pool = None
