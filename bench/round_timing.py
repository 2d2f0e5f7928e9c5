"""Benchmark: how long an active-learning round takes on a pool of a few thousand items, against
the real Label Studio test server (var/ls-test, which must be running).

A fresh SQLite database and embedding cache under ``var/bench/rounds/`` (deleted first); the pool
is N comments of ``../shared/data/jigsaw_toxic_sample.csv`` (resampled with a variant suffix past
its ~2,100 rows); the first L items get one
gold annotation each (written straight into the database, as reconciliation would). Then:
round 1 ``seed_keyword`` (cold cache: every item is embedded), round 2 ``margin`` (warm cache),
each pushing batch + buffer items and ordering the queue in Label Studio.

    .venv/bin/python bench/round_timing.py                       # 5000 items, hashed features
    .venv/bin/python bench/round_timing.py --featurizer sentence-transformers --items 2000
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_sample.csv"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--labeled", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--buffer", type=int, default=100)
    parser.add_argument("--featurizer", default="hashed", choices=["hashed", "sentence-transformers"])
    args = parser.parse_args()

    var = ROOT / "var" / "bench" / "rounds"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    from workbench.labelstudio import server

    info = server.status(ROOT / "var" / "ls-test")
    if info is None:
        sys.exit("The Label Studio test server (var/ls-test) is not running.")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="workbench.settings",
        WORKBENCH_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}",
        LABEL_STUDIO_URL=info.url,
        LABEL_STUDIO_API_KEY=info.token,
        WORKBENCH_FEATURIZER=args.featurizer,
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from workbench.annotations.models import Annotation
    from workbench.labelstudio import connection
    from workbench.projects.models import Item
    from workbench.projects.services import items_import, project_create
    from workbench.rounds.models import Round
    from workbench.rounds.services import round_start

    call_command("migrate", verbosity=0)
    with open(DATA, newline="", encoding="utf-8") as f:
        header, *base = list(csv.reader(f))
    # Past the sample's ~2,100 rows the pool is generated: the same comments with a variant suffix.
    rows = [header]
    for i in range(args.items):
        row = list(base[i % len(base)])
        copy = i // len(base)
        if copy:
            row[0], row[1] = f"{row[0]}-v{copy}", f"{row[1]} [variant {copy}]"
        rows.append(row)
    content = "\n".join(
        ",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in row) for row in rows
    ).encode()
    project = project_create(name=f"bench rounds {uuid.uuid4().hex[:6]}", kind="toxicity_binary")
    try:
        t = time.perf_counter()
        report = items_import(
            project=project,
            source="jigsaw.csv",
            content=content,
            columns={"text": "comment_text", "external_id": "id"},
        )
        print(f"imported {report.created} items in {time.perf_counter() - t:.1f} s")
        now = timezone.now()
        Annotation.objects.bulk_create(
            Annotation(
                project=project,
                item=item,
                ls_annotation_id=i + 1,
                ls_user_id=1,
                label=item.gold,
                source=Annotation.Source.RECONCILE,
                synced_at=now,
            )
            for i, item in enumerate(Item.objects.filter(project=project).order_by("id")[: args.labeled])
        )
        for strategy in ("seed_keyword", "margin", "margin+kmeans"):
            t = time.perf_counter()
            round_ = round_start(
                project=project,
                trigger="command",
                strategy=strategy,
                batch_size=args.batch,
                buffer_size=args.buffer,
                seed=1,
            )
            wall = time.perf_counter() - t
            round_ = Round.objects.get(id=round_.id)
            if round_.status != "done":
                sys.exit(f"round failed: {round_.error}")
            phases = ", ".join(f"{k} {v:.2f}" for k, v in round_.timings.items())
            print(
                f"round {round_.number} {strategy:14s} wall {wall:5.2f} s | pool {round_.pool_size}, "
                f"trained on {round_.training_size}, validation {round_.validation_size}, "
                f"pushed {round_.pushed_count}, predicted {round_.predicted_count} | {phases}"
            )
            if round_.metrics:
                print("   metrics", {k: round(v, 3) for k, v in round_.metrics.items() if v is not None})
    finally:
        connection.get_gateway().delete_project(project_id=project.ls_project_id)


if __name__ == "__main__":
    main()
