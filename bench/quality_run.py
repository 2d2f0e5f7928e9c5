"""Benchmark: one quality run (what ``manage.py compute_quality`` runs) on a large binary
toxicity project on PostgreSQL, against issue 14's target of at most 60 s for 100,000 items x 3
annotators.

The rows are written straight into the database in bulk (no Label Studio, no import): N items
resampled from ``../shared/data/jigsaw_toxic_sample.csv`` (a variant suffix keeps each text
unique), each labeled by 3 of a pool of simulated annotators (error rates 5-30 %, answers spread
over eight weeks so the agreement trend has periods). Features use the hashed featurizer
(``WORKBENCH_FEATURIZER=hashed``) with a fresh embedding cache, so the run embeds every item, as a
project's first quality run does. The project is created once per database and reused
(``--fresh`` rebuilds it).

The run itself is ``quality_compute``, the service the command calls, timed as a whole (wall
time, CPU time and peak RSS of this process; on a loaded machine the CPU time is the figure
that travels) and by phase: each phase is one function of the service, wrapped here with a
timer (reading ratings, agreement with its bootstrap, features, out-of-fold probabilities,
CROWDLAB, label issues, storing consensus / annotators / issues, reviews). It runs twice by
default: first with a cold cache and nothing stored (the project's stored quality results are
deleted first: a project's first run), then warm (a recompute that replaces the stored
consensus and refreshes the open issues).

    .venv/bin/python bench/quality_run.py                    # 100,000 items x 3
    .venv/bin/python bench/quality_run.py --items 5000       # a quick look
    .venv/bin/python bench/quality_run.py --profile          # also a pyinstrument / cProfile report

``--database-url`` (default ``$BENCH_DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432/
workbench_bench_quality``): the database is created when missing and migrated.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import os
import random
import resource
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_sample.csv"
TARGET_SECONDS = 60.0
PROJECT_NAME = "bench: quality run {items}x{per_item}"  # one project per size, reused
ERROR_RATES = (0.05, 0.1, 0.15, 0.2, 0.3)
WEEKS = 8
BULK = 5000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def build_project(n_items: int, annotators_per_item: int, pool: int, seed: int) -> Any:
    """The project with its items and annotations, written in bulk; reused when it already has
    the asked-for size."""
    from workbench.annotations.models import Annotation
    from workbench.projects import kinds
    from workbench.projects.models import Item, ItemImport, Project

    name = PROJECT_NAME.format(items=n_items, per_item=annotators_per_item)
    found = Project.objects.filter(name=name).first()
    if found is not None:
        size = (found.items.count(), found.annotations.count())
        if size == (n_items, n_items * annotators_per_item):
            return found
        drop_project(name)
    interface = kinds.interface(kinds.Kind.TOXICITY_BINARY)
    project = Project.objects.create(
        name=name,
        kind=kinds.Kind.TOXICITY_BINARY.value,
        label_config_name=interface.spec.config_name,
        label_config_sha256=interface.sha256,
        annotators_per_item=annotators_per_item,
    )
    source = ItemImport.objects.create(
        project=project,
        source_name="bench",
        source_sha256="0" * 64,
        rows=n_items,
        created_count=n_items,
        duplicate_count=0,
    )
    with DATA.open(newline="", encoding="utf-8") as handle:
        base = [(row["comment_text"], row["toxic"] == "1") for row in csv.DictReader(handle)]
    rng = random.Random(seed)
    truth: list[bool] = []
    started = time.perf_counter()
    for start in range(0, n_items, BULK):
        rows = []
        for n in range(start, min(n_items, start + BULK)):
            text, toxic = base[n % len(base)]
            text = f"{text} [{n}]" if n >= len(base) else text
            truth.append(toxic)
            rows.append(
                Item(
                    project=project,
                    source=source,
                    external_id=f"bench-{n}",
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    data={"text": text},
                    ls_task_id=n + 1,
                )
            )
        Item.objects.bulk_create(rows, batch_size=BULK)
    item_ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    print(f"  {n_items:,} items written in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    error = {user: ERROR_RATES[user % len(ERROR_RATES)] for user in range(1, pool + 1)}
    origin = datetime(2026, 9, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    ls_id = 0
    batch: list[Annotation] = []
    for item_id, toxic in zip(item_ids, truth, strict=True):
        for user in rng.sample(range(1, pool + 1), annotators_per_item):
            ls_id += 1
            said = toxic != (rng.random() < error[user])
            made = origin + timedelta(minutes=rng.randrange(WEEKS * 7 * 24 * 60))
            batch.append(
                Annotation(
                    project=project,
                    item_id=item_id,
                    ls_annotation_id=ls_id,
                    ls_user_id=user,
                    label="toxic" if said else "non-toxic",
                    lead_time=rng.uniform(2, 30),
                    ls_created_at=made,
                    ls_updated_at=made,
                    source=Annotation.Source.RECONCILE,
                    synced_at=now,
                )
            )
        if len(batch) >= BULK:
            Annotation.objects.bulk_create(batch, batch_size=BULK)
            batch = []
    Annotation.objects.bulk_create(batch, batch_size=BULK)
    print(f"  {ls_id:,} annotations written in {time.perf_counter() - started:.1f} s", flush=True)
    return project


def drop_project(name: str) -> None:
    """Delete a bench project: its items first (imports protect them), then the rest."""
    from workbench.projects.models import Item, ItemImport, Project

    Item.objects.filter(project__name=name).delete()
    ItemImport.objects.filter(project__name=name).delete()
    Project.objects.filter(name=name).delete()


class Phases:
    """Wall time per wrapped function, summed over calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        inner: Callable[..., Any] = getattr(owner, attribute)

        @functools.wraps(inner)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.cpu[label] += time.process_time() - cpu
                self.calls[label] += 1

        setattr(owner, attribute, timed)


def instrument() -> Phases:
    import label_quality as lq
    from workbench.quality import analysis
    from workbench.quality.services import compute

    phases = Phases()
    for owner, attribute, label in (
        (compute, "gold_items_select", "gold selection"),
        (compute, "project_ratings", "read ratings (database)"),
        (analysis, "agreement", "agreement + bootstrap CIs + trend"),
        (compute, "item_features", "features (hashed)"),
        (lq, "out_of_fold_where_trainable", "out-of-fold probabilities"),
        (lq, "crowdlab", "CROWDLAB consensus"),
        (lq, "find_label_issues", "label issues"),
        (lq, "annotator_agreement_with_consensus", "annotator agreement"),
        (compute, "_store_consensus", "store consensus"),
        (compute, "_store_annotators", "store annotators"),
        (compute, "_store_issues", "store label issues"),
        (compute, "reviews_settle", "settle reviews"),
    ):
        phases.wrap(owner, attribute, label)
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators-per-item", type=int, default=3)
    parser.add_argument("--pool", type=int, default=30, help="simulated annotators in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true", help="rebuild the project's rows")
    parser.add_argument("--profile", action="store_true", help="print a profile of the first run")
    parser.add_argument("--runs", type=int, default=2, help="quality runs in a row (1: cold only)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/workbench_bench_quality"
        ),
    )
    args = parser.parse_args()
    # A fresh var dir (so a cold embedding cache) per run, removed at exit; runs side by side
    # on other databases do not share it.
    var = ROOT / "var" / "bench" / "quality" / f"run-{os.getpid()}"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    try:
        run_bench(args, var)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def run_bench(args: argparse.Namespace, var: Path) -> None:
    ensure_database(args.database_url)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="workbench.settings",
        WORKBENCH_VAR_DIR=str(var),
        DATABASE_URL=args.database_url,
        WORKBENCH_FEATURIZER="hashed",
        WORKBENCH_DEV_SECRETS="true",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.fresh:
        drop_project(PROJECT_NAME.format(items=args.items, per_item=args.annotators_per_item))
    print(f"project: {args.items:,} items x {args.annotators_per_item} annotators (pool {args.pool})")
    project = build_project(args.items, args.annotators_per_item, args.pool, args.seed)
    from workbench.quality.models import AnnotatorQuality, ItemConsensus, LabelIssue, QualityRun

    for model in (LabelIssue, ItemConsensus, AnnotatorQuality, QualityRun):  # a first run again
        model.objects.filter(project=project).delete()
    phases = instrument()
    for number in range(1, args.runs + 1):
        # Run 1: cold embedding cache and no consensus / issues stored yet (a project's first
        # run); later runs: warm cache, replacing what the previous run stored (a recompute).
        what = "cold cache, first run" if number == 1 else "warm cache, recompute"
        timed_run(project, phases, profile=args.profile and number == 1, what=f"run {number}: {what}")
        phases.seconds.clear()
        phases.cpu.clear()
        phases.calls.clear()


def timed_run(project: Any, phases: Phases, *, profile: bool, what: str) -> None:
    from workbench.quality.services import quality_compute

    profiler: Any = None
    if profile:
        try:
            from pyinstrument import Profiler

            profiler = Profiler()
        except ImportError:
            import cProfile

            profiler = cProfile.Profile()
        profiler.enable() if not hasattr(profiler, "start") else profiler.start()
    rss_before = _peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    run = quality_compute(project=project, trigger="command")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler is not None:
        if hasattr(profiler, "stop"):
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    load = os.getloadavg()
    print(f"\n{what} -- quality run {run.id}: {run.status} {run.error}")
    summary = run.summary
    print(
        f"  {summary.get('n_items', 0):,} items, {summary.get('n_ratings', 0):,} ratings, "
        f"consensus {summary.get('consensus', {}).get('method')}, "
        f"issues {summary.get('issues', {}).get('n_flagged')}"
    )
    print(f"\n{'phase':<40} {'wall s':>8} {'CPU s':>8} {'calls':>6}")
    accounted = accounted_cpu = 0.0
    for label, seconds in phases.seconds.items():
        accounted += seconds
        accounted_cpu += phases.cpu[label]
        print(f"{label:<40} {seconds:8.2f} {phases.cpu[label]:8.2f} {phases.calls[label]:6d}")
    rest, rest_cpu = max(0.0, wall - accounted), max(0.0, cpu - accounted_cpu)
    print(f"{'(rest of the run)':<40} {rest:8.2f} {rest_cpu:8.2f}")
    verdict = "within" if wall <= TARGET_SECONDS else "OVER"
    print(
        f"\nwall {wall:.1f} s ({verdict} the {TARGET_SECONDS:.0f} s target), CPU {cpu:.1f} s, "
        f"peak RSS {_peak_rss_mb():.0f} MB (before the run {rss_before:.0f} MB), "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
