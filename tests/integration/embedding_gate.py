"""The Celery app of the embedding worker tests: workbench's own app (``celery -A
tests.integration.embedding_gate``) plus gates that make "both workers hold a chunk" and "a
worker dies mid-chunk" happen every run, without timing. Loaded by the worker processes only.

``EMBED_TEST_GATE=both``: each worker's first chunk waits (bounded) until two workers have
started one. ``EMBED_TEST_GATE=kill``: the first process to write part of a chunk to the cache
records ``<pid>:<chunk id>`` in Redis and then stops there, for the test to SIGKILL it.
``EMBED_TEST_WRITE_EVERY``: texts between two cache writes (small, so a chunk has several).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from celery.signals import task_prerun

import active_learning as al
from tests.integration.worker import BROKER
from workbench.celery import app
from workbench.rounds import embeddings

__all__ = ["app"]

WORKERS_KEY = "embed-test:workers"
KILL_KEY = "embed-test:stopped-at"
_GATE = os.environ.get("EMBED_TEST_GATE", "")
_redis = redis.Redis.from_url(os.environ.get("CELERY_BROKER_URL") or BROKER)
_current = threading.local()

_WRITE_EVERY = os.environ.get("EMBED_TEST_WRITE_EVERY", "")
if _WRITE_EVERY:
    embeddings.WRITE_EVERY = int(_WRITE_EVERY)


@task_prerun.connect
def _before(sender: Any = None, task: Any = None, args: Any = None, **_: Any) -> None:
    if task is None or not task.name.endswith("embed_chunk"):
        return
    _current.chunk = args[0] if args else None
    if _GATE == "both":
        _redis.sadd(WORKERS_KEY, str(task.request.hostname))
        deadline = time.monotonic() + 120
        while _redis.scard(WORKERS_KEY) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)


if _GATE == "kill":
    _put = al.FileEmbeddingCache.put

    def _put_then_stop(self: al.FileEmbeddingCache, keys: Any, vectors: Any) -> None:
        _put(self, keys, vectors)
        if _redis.setnx(KILL_KEY, f"{os.getpid()}:{getattr(_current, 'chunk', '')}"):
            while True:  # part of the chunk is written; wait here for the SIGKILL
                time.sleep(1)

    al.FileEmbeddingCache.put = _put_then_stop  # type: ignore[method-assign]
