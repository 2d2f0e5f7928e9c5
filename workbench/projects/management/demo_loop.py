"""The demo's whole loop on one project: a cold-start round fills Label Studio's queue,
simulated annotators label a batch, a model round re-orders the queue (twice, so the learning
curve has two points), label quality is computed and a release is published.

Every step checks what is already there first, so running the demo again reuses it all; a
project a person has labeled in since is left as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.projects.models import Project
from workbench.quality.models import QualityRun
from workbench.quality.selectors import latest_run
from workbench.quality.services import quality_compute
from workbench.releases.models import Release
from workbench.releases.services import release_build, release_create
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_run, round_start

ANNOTATORS_PER_ITEM = 3
# One careful, one average, one careless annotator: agreement is visible but not perfect.
ERROR_RATES = (0.05, 0.15, 0.3)
BATCH = 12
BUFFER = 12
# 60 items: a quarter held out gives ~15 gold-labeled validation items for the metrics.
VALIDATION_PERCENT = 25
COST_FP, COST_FN = 1.0, 3.0
MODEL_ROUNDS = 2


@dataclass(frozen=True)
class LoopState:
    rounds: list[Round]
    annotations: int
    quality: QualityRun | None
    release: Release | None


def loop_run(*, project: Project, admin: User, say: Callable[[str], None]) -> LoopState:
    clock = time.perf_counter()

    def done(what: str) -> None:
        nonlocal clock
        say(f"{what} ({time.perf_counter() - clock:.1f} s)")
        clock = time.perf_counter()

    _rounds_configure(project)
    if not _done_rounds(project):
        _round(project, "seed_keyword", seed=1)
        done("Round 1 (cold start, seed_keyword) chose the first batch and pushed it to Label Studio")
    annotators = simulated_annotators(ANNOTATORS_PER_ITEM, list(ERROR_RATES))
    for number in range(2, 2 + MODEL_ROUNDS):
        if len(_done_rounds(project)) >= number:
            continue
        report = simulate(project=project, annotators=annotators, max_tasks_per_annotator=BATCH, seed=number)
        annotations_reconcile(project=project)  # the webhooks may have no server to reach yet
        done(f"{ANNOTATORS_PER_ITEM} simulated annotators labeled {report.total} tasks from the queue")
        _round(project, "margin", seed=number)
        done(f"Round {number} (margin) trained on the labels and re-ordered the queue")
    quality = _quality_fresh(project, done)
    release = (
        Release.objects.filter(project=project, status=Release.Status.PUBLISHED).order_by("version").first()
    )
    if release is None:
        release = _release(project, admin)
        done(f"Release {release.version} published")
    return LoopState(
        rounds=_done_rounds(project),
        annotations=Annotation.objects.filter(project=project, was_cancelled=False).count(),
        quality=quality,
        release=release,
    )


def _rounds_configure(project: Project) -> None:
    if not Round.objects.filter(project=project).exists():
        round_config_update(
            project=project,
            strategy="margin",
            batch_size=BATCH,
            buffer_size=BUFFER,
            validation_percent=VALIDATION_PERCENT,
            cost_fp=COST_FP,
            cost_fn=COST_FN,
        )


def _done_rounds(project: Project) -> list[Round]:
    return list(Round.objects.filter(project=project, status=Round.Status.DONE).order_by("number"))


def _round(project: Project, strategy: str, *, seed: int) -> Round:
    round_ = round_start(project=project, trigger=Round.Trigger.COMMAND, strategy=strategy, seed=seed)
    round_run(round_id=round_.id)  # with a broker the worker may run it too; whoever claims it first
    round_.refresh_from_db()
    if round_.status != Round.Status.DONE:
        raise CommandError(f"Round {round_.number} did not finish ({round_.status}): {round_.error}")
    return round_


def _quality_fresh(project: Project, done: Callable[[str], None]) -> QualityRun | None:
    """The newest quality run, recomputed first when annotations arrived since it ran."""
    run = latest_run(project)
    if (
        run is not None
        and not Annotation.objects.filter(project=project, synced_at__gt=run.started_at).exists()
    ):
        return run
    run = quality_compute(project=project, trigger="demo")
    if run.status != QualityRun.Status.DONE:
        raise CommandError(f"Label quality was not computed: {run.error}")
    done("Label quality computed")
    return run


def _release(project: Project, admin: User) -> Release:
    release = release_create(project=project, created_by=admin, tag="demo")
    release_build(release_id=release.id)  # unless its Celery task already built it
    release.refresh_from_db()
    if release.status != Release.Status.PUBLISHED:
        raise CommandError(f"Release {release.version} was not published ({release.status}): {release.error}")
    return release
