"""gunicorn settings for the workbench (``gunicorn -c ops/gunicorn.conf.py workbench.wsgi``).

Everything here can be overridden on the command line or with GUNICORN_CMD_ARGS. Logs go to
stderr as JSON lines like the application's own (``workbench.ops.logs.JsonFormatter``).
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("WORKBENCH_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 120  # a large import upload is parsed in the request
accesslog = "-"
errorlog = "-"
# Each worker counts its own requests; prometheus_client's multiprocess mode sums them at scrape
# time through files here (set before the workers import prometheus_client, so they inherit it).
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("WORKBENCH_VAR_DIR", "var")) / "prometheus-multiproc")
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "workbench.ops.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):  # type: ignore[no-untyped-def]
    # Several workers share their request metrics through files (prometheus_client's
    # multiprocess mode); a fresh start must not add the last run's samples.
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    Path(folder).mkdir(parents=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
