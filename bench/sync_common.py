"""Shared set-up of the push and ingest benchmarks (``bench/push_items.py``, ``bench/ingest.py``):
a PostgreSQL database of their own, a Label Studio of their own (never the shared test server:
these load it with tens of thousands of tasks), Django configured for both, and a pool of
toxicity items written straight into the database.

The Label Studio server is started with
``python -m workbench.labelstudio.server ensure --data-dir var/ls-bench-sync --port 8791``
and stopped afterwards with ``... stop --data-dir var/ls-bench-sync``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/wb_sync_bench"
DEFAULT_LS_DIR = ROOT / "var" / "ls-bench-sync"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--ls-data-dir", type=Path, default=DEFAULT_LS_DIR)


def setup(args: argparse.Namespace) -> Any:
    """Configure Django against the bench database and the bench's Label Studio; returns the
    server's info."""
    from workbench.labelstudio import server

    info = server.status(args.ls_data_dir)
    if info is None:
        sys.exit(
            f"No Label Studio running on {args.ls_data_dir}; start one with\n"
            f"  python -m workbench.labelstudio.server ensure --data-dir {args.ls_data_dir} --port 8791"
        )
    os.environ.update(
        DJANGO_SETTINGS_MODULE="workbench.settings",
        DATABASE_URL=args.database_url,
        LABEL_STUDIO_URL=info.url,
        LABEL_STUDIO_API_KEY=info.token,
        WORKBENCH_DEV_SECRETS="true",
        WORKBENCH_FEATURIZER="hashed",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return info


def toxicity_project(name: str) -> Any:
    from workbench.projects.services import project_create

    return project_create(name=f"{name} {time.time_ns() % 10**9}", kind="toxicity_binary")


def toxicity_items(project: Any, n: int) -> None:
    """N generated comments, written in bulk (the import path is not what is measured here)."""
    from workbench.projects.models import Item, ItemImport

    source = ItemImport.objects.create(
        project=project,
        source_name="bench",
        source_sha256="0" * 64,
        rows=n,
        created_count=n,
        duplicate_count=0,
    )
    items = []
    for i in range(n):
        text = f"generated comment number {i} about the weather and other things"
        items.append(
            Item(
                project=project,
                source=source,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                data={"text": text},
                gold="toxic" if i % 3 == 0 else "non-toxic",
            )
        )
    Item.objects.bulk_create(items, batch_size=5000)


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
