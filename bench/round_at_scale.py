"""Benchmark: one active-learning round through the service on a million items, against the
library's own round on the same embeddings, measured in the same run (issue 14, target 5:
service within 2x the library, peak RSS <= 2.5 GB, Label Studio's part measured separately).

Setup (once per ``--items``; reused while the project exists with that many items):

* a PostgreSQL database (``--database``, created if missing, migrated) holding one toxicity
  project with ``--items`` items written by ``COPY`` (texts ``synthetic comment <i> ...``),
  ``--labels`` of them with one annotation each (bulk insert);
* the tables analysed, every run (what autovacuum does after a large write; without statistics the
  planner scans the whole project to push the batch);
* the embedding cache (``var/bench/round_at_scale/embeddings``) filled with random unit float16
  vectors for every text, in shards of ``EMBEDDING_CHUNK_SIZE`` rows as the chunk jobs write them
  (no real encoding).

Then, each in a fresh interpreter so that peak RSS is its own:

* **library**: the texts hashed (``content_keys``), the cache opened, every row read
  (float16), ``run_round`` with the same strategy, k and labeled items, gated as the service's
  round is (``RoundOptions.fallback``: the kind's model-free strategy, so the readiness check
  runs in both and both fall back alike);
* **service**: ``round_start`` + ``round_run`` in process (the Celery task's body) on a
  FakeGateway whose calls are timed: database loads, embeddings from the cache, selection,
  queue publish; Label Studio's part (the gateway calls) is reported separately.

    .venv/bin/python bench/round_at_scale.py                    # 1,000,000 items
    .venv/bin/python bench/round_at_scale.py --items 100000     # smaller
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench" / "round_at_scale"
PROJECT = "round at scale {items}"
KIND = "toxicity_binary"
DIM = 384


def text_of(i: int) -> str:
    return f"synthetic comment {i} about the article, item {i * 7919 % 1_000_003}"


def django_setup(database: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="workbench.settings",
        WORKBENCH_VAR_DIR=str(VAR),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        # MiniLM (384-d): every row is in the cache, so nothing imports torch or encodes.
        WORKBENCH_FEATURIZER="sentence-transformers",
        EMBEDDING_BACKEND="torch",
        WORKBENCH_DEV_SECRETS="true",
        LABEL_STUDIO_URL="http://label-studio.invalid",
        LABEL_STUDIO_API_KEY="unused",
        EMBED_ON_IMPORT="false",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def ensure_database(database: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')


class TimedGateway:
    """A FakeGateway whose every call is timed: Label Studio's part of the round."""

    def __init__(self) -> None:
        from tests.fakes import FakeGateway

        self._inner = FakeGateway()
        self.seconds = 0.0
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed


def install_gateway() -> TimedGateway:
    from workbench.labelstudio import connection

    gateway = TimedGateway()
    connection.get_gateway = lambda: gateway  # type: ignore[assignment,return-value]
    connection.credentials = lambda: ("http://label-studio.invalid", "unused")  # type: ignore[assignment]
    return gateway


def setup(args: argparse.Namespace) -> None:
    ensure_database(args.database)
    django_setup(args.database)
    from django.core.management import call_command
    from django.db import connection as db
    from django.utils import timezone

    from workbench.annotations.models import Annotation
    from workbench.projects.models import Item, ItemImport, Project
    from workbench.projects.services import project_create
    from workbench.rounds.models import Round

    call_command("migrate", verbosity=0)
    install_gateway()
    name = PROJECT.format(items=args.items)
    project = Project.objects.filter(name=name).first()
    if project is not None and Item.objects.filter(project=project).count() == args.items:
        print(f"setup: reusing {args.items:,} items of project {project.id}", flush=True)
    else:
        if project is not None:  # an interrupted setup: start over
            Round.objects.filter(project=project).delete()
            with db.cursor() as cursor:  # a cascade through the ORM would load a million rows
                cursor.execute("DELETE FROM annotations_annotation WHERE project_id = %s", [project.id])
                cursor.execute("DELETE FROM projects_item WHERE project_id = %s", [project.id])
            project.delete()
        # Each run's in-memory Label Studio numbers its projects from 1: unlink the older ones.
        Project.objects.update(ls_project_id=None)
        project = project_create(name=name, kind=KIND)
        record = ItemImport.objects.create(
            project=project,
            source_name="bench",
            source_sha256="0" * 64,
            rows=args.items,
            created_count=args.items,
            duplicate_count=0,
        )
        started = time.perf_counter()
        now = timezone.now()
        columns = "project_id, source_id, external_id, content_hash, data, metadata, sides, created_at"
        with (
            db.cursor() as cursor,
            cursor.connection.cursor().copy(f"COPY projects_item ({columns}) FROM STDIN") as copy,
        ):
            for i in range(args.items):
                text = text_of(i)
                copy.write_row(
                    (
                        project.id,
                        record.id,
                        f"s{i}",
                        hashlib.sha256(text.encode()).hexdigest(),
                        json.dumps({"text": text}),
                        "{}",
                        "",
                        now,
                    )
                )
        print(f"setup: COPY of {args.items:,} items {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
        step = max(1, len(ids) // args.labels)
        Annotation.objects.bulk_create(
            (
                Annotation(
                    project=project,
                    item_id=item_id,
                    ls_annotation_id=n + 1,
                    ls_user_id=1 + n % 3,
                    label="toxic" if n % 3 == 0 else "non-toxic",
                    source="reconcile",
                    synced_at=now,
                    ls_created_at=now,
                    ls_updated_at=now,
                )
                for n, item_id in enumerate(ids[::step][: args.labels])
            ),
            batch_size=5000,
        )
        print(f"setup: {args.labels:,} annotations {time.perf_counter() - started:.1f} s", flush=True)
    with db.cursor() as cursor:  # what autovacuum does after a large write (off on some servers)
        cursor.execute("ANALYZE projects_item")
        cursor.execute("ANALYZE annotations_annotation")
    fill_cache(args)


def fill_cache(args: argparse.Namespace) -> None:
    import numpy as np
    from django.conf import settings

    import active_learning as al
    from workbench.rounds import embeddings

    feat = embeddings.featurizer()
    cache = al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)
    if len(cache) >= args.items:
        print(
            f"setup: reusing {len(cache):,} cached rows "
            f"({len(list(cache.directory.glob('*.keys.npy')))} shards)"
        )
        return
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    chunk = settings.EMBEDDING_CHUNK_SIZE
    for start in range(0, args.items, 100 * chunk):
        batches = []
        for lo in range(start, min(args.items, start + 100 * chunk), chunk):
            hi = min(args.items, lo + chunk)
            vec = rng.standard_normal((hi - lo, feat.dim), dtype=np.float32)
            vec /= np.linalg.norm(vec, axis=1, keepdims=True)
            batches.append((al.content_keys(text_of(i) for i in range(lo, hi)), vec))
        cache.put_many(batches)
    print(
        f"setup: {len(cache):,} random float16 rows cached in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def run_library(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    django_setup(args.database)
    from django.conf import settings

    import active_learning as al
    from workbench.projects import kinds
    from workbench.rounds import embeddings

    spec = kinds.spec_of(KIND)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    keys = al.content_keys(text_of(i) for i in range(args.items))
    timings["hash"] = time.perf_counter() - t0
    t = time.perf_counter()
    feat = embeddings.featurizer()
    cache = al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)
    pool = cache.get(keys, dtype=np.float16)
    timings["cache"] = time.perf_counter() - t
    step = max(1, args.items // args.labels)
    labeled = np.arange(0, args.items, step)[: args.labels]
    y = np.array([1 if n % 3 == 0 else 0 for n in range(labeled.shape[0])])
    t = time.perf_counter()
    result = al.run_round(
        al.LabeledSet(pool[labeled], y),
        al.Pool(pool),
        args.strategy,
        args.k,
        np.random.default_rng(0),
        options=al.RoundOptions(task=spec.task, fallback=spec.model_free_strategy),
    )
    timings["run_round"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return {
        "timings": timings,
        "selected": int(result.positions.shape[0]),
        "strategy_used": result.strategy,
        "round_timings": result.timings,
    }


def run_service(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.database)
    from workbench.projects.models import Item, Project
    from workbench.rounds.models import Round, RoundConfig
    from workbench.rounds.services import round_run, round_start

    gateway = install_gateway()
    project = Project.objects.get(name=PROJECT.format(items=args.items))
    # A fresh in-memory Label Studio: forget the tasks of the last run, link a new project.
    Project.objects.update(ls_project_id=None)
    Item.objects.filter(project=project, ls_task_id__isnull=False).update(ls_task_id=None, pushed_at=None)
    Project.objects.filter(id=project.id).update(
        ls_project_id=gateway._inner.create_project(
            title=project.name, label_config="", maximum_annotations=1
        )
    )
    project.refresh_from_db()
    Round.objects.filter(project=project, status__in=["pending", "running"]).update(status="failed")
    RoundConfig.objects.update_or_create(project=project, defaults={"validation_percent": 0})
    gateway.seconds = 0.0
    t0 = time.perf_counter()
    round_ = round_start(
        project=project, trigger="command", strategy=args.strategy, batch_size=args.k, buffer_size=0, seed=0
    )
    round_run(round_id=round_.id)
    total = time.perf_counter() - t0
    round_.refresh_from_db()
    if round_.status != "done":
        raise SystemExit(f"the round failed: {round_.error}")
    return {
        "timings": {"total": total, **{f"  {k}": v for k, v in round_.timings.items()}},
        "label_studio_s": gateway.seconds,
        "label_studio_calls": gateway.calls,
        "strategy_used": round_.strategy_used,
        "pool_size": round_.pool_size,
        "training_size": round_.training_size,
        "embedded_in_round": round_.parameters.get("embedded"),
    }


def child(which: str, args: argparse.Namespace) -> None:
    result = run_library(args) if which == "library" else run_service(args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def measure(which: str, argv: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *argv, "--child", which], capture_output=True, text=True, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(
            f"{which} run failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=3000, help="items with one annotation each")
    parser.add_argument("--k", type=int, default=1000, help="batch size")
    parser.add_argument("--strategy", default="margin")
    parser.add_argument("--database", default="wb_round_at_scale")
    parser.add_argument("--child", choices=["library", "service"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    argv = [a for a in sys.argv[1:]]
    setup(args)
    load = [os.getloadavg()[0]]
    library = measure("library", argv)
    load.append(os.getloadavg()[0])
    service = measure("service", argv)
    load.append(os.getloadavg()[0])
    lib_s, svc_s = library["timings"]["total"], service["timings"]["total"]
    svc_no_ls = svc_s - service["label_studio_s"]
    loads = " -> ".join(f"{x:.1f}" for x in load)
    print(
        f"\n{args.items:,} items, {args.labels:,} labeled, {args.strategy}, k={args.k}; load (1 min) {loads}"
    )
    print(json.dumps({"library": library, "service": service}, indent=1))
    print("\n| | seconds | peak RSS MB |")
    print("|---|---:|---:|")
    print(f"| library round (hash, cache, run_round) | {lib_s:.2f} | {library['peak_rss_mb']:.0f} |")
    print(f"| service round (round_start + round_run) | {svc_s:.2f} | {service['peak_rss_mb']:.0f} |")
    print(f"| of which Label Studio (FakeGateway calls) | {service['label_studio_s']:.2f} | |")
    ratio = svc_no_ls / lib_s
    print(
        f"\nservice without Label Studio / library = {ratio:.2f} (target <= 2: "
        f"{'met' if ratio <= 2 else 'missed'}); peak RSS {service['peak_rss_mb']:.0f} MB (target <= 2560: "
        f"{'met' if service['peak_rss_mb'] <= 2560 else 'missed'})"
    )


if __name__ == "__main__":
    main()
