"""Active-learning rounds: start one, run it (train, score, select, publish the queue), and
start them automatically every N new annotations."""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from numpy.typing import NDArray

import active_learning as al
from active_learning.strategies import cold_start_names
from workbench.annotations.models import Annotation
from workbench.bounds import INT32_MAX, Bound, check_bounds
from workbench.errors import Conflict, ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.rounds import embeddings
from workbench.rounds.evaluation import validation_scores
from workbench.rounds.follow_ups import follow_ups_open
from workbench.rounds.models import Round, RoundConfig, RoundSelection
from workbench.rounds.queue import queue_publish
from workbench.rounds.round_model import round_model_save
from workbench.rounds.snapshot import Snapshot, snapshot_take, votes_matrix

log = logging.getLogger(__name__)

# A round still "running" after this long lost its worker; a redelivered task may take it over.
STALE_AFTER = timedelta(hours=2)
# What the round code can run with (the API, the admin and round_start all check these).
_COST = Bound(0, 1e12, why="a cost per error; cost_fp and cost_fn must not both be 0")
ROUND_BOUNDS: dict[str, Bound] = {
    "batch_size": Bound(1, 100_000, integer=True),
    "buffer_size": Bound(0, 100_000, integer=True),
    "auto_round_every": Bound(1, INT32_MAX, integer=True, nullable=True),
    "validation_percent": Bound(0, 50, integer=True, why="at most half the gold items are held out"),
    "cost_fp": _COST,
    "cost_fn": _COST,
    "seed": Bound(0, 2**63 - 1, integer=True),
    "committee_size": Bound(2, 50, integer=True, why="a committee needs two members to disagree"),
    "max_annotators_per_item": Bound(1, 100, integer=True, why="the cap on annotators per item"),
    "gold_share": Bound(0, 1, why="the share of a split_votes batch given to gold items"),
    "audit_percent": Bound(0, 50, why="at most half of a batch is drawn at random for the audit slice"),
}


def round_values_check(values: dict[str, Any]) -> None:
    """Each value within its bound, and costs that ``active_learning.choose_threshold`` accepts
    (not both 0)."""
    check_bounds(ROUND_BOUNDS, values)
    if values.get("cost_fp") == 0 and values.get("cost_fn") == 0:
        raise ValidationFailed(
            "cost_fp and cost_fn must not both be 0 (the decision threshold would mean nothing).",
            extra={"fields": {"cost_fp": ["both costs are 0"], "cost_fn": ["both costs are 0"]}},
        )


# What round_start takes in ``parameters`` (the rest are its own arguments).
ROUND_PARAMETERS = ("committee_size", "cost_fp", "cost_fn", "max_annotators_per_item", "gold_share")

CONFIG_FIELDS = (
    "strategy",
    "batch_size",
    "buffer_size",
    "auto_round_every",
    "validation_percent",
    "cost_fp",
    "cost_fn",
    "max_annotators_per_item",
    "fallback_strategy",
    "audit_percent",
)


def round_config_get(*, project: Project) -> RoundConfig:
    """The project's settings (defaults until someone changes them)."""
    return RoundConfig.objects.filter(project=project).first() or RoundConfig(project=project)


def round_config_update(*, project: Project, **changes: Any) -> RoundConfig:
    unknown = sorted(set(changes) - set(CONFIG_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown round settings {unknown}; valid: {', '.join(CONFIG_FIELDS)}.")
    if "strategy" in changes:
        strategy_check(project=project, name=changes["strategy"])
    if changes.get("fallback_strategy"):
        fallback_check(project=project, name=changes["fallback_strategy"])
    with transaction.atomic():
        config = RoundConfig.objects.select_for_update().filter(project=project).first() or RoundConfig(
            project=project
        )
        round_values_check({**{k: getattr(config, k) for k in ("cost_fp", "cost_fn")}, **changes})
        for key, value in changes.items():
            setattr(config, key, value)
        config.save()
    return config


def strategy_check(*, project: Project, name: str) -> al.Strategy:
    """The strategy by name, if it can run on this project's kind."""
    try:
        strategy = al.get_strategy(name)
    except al.UnknownNameError as exc:
        raise ValidationFailed(str(exc), extra={"valid": al.strategy_names()}) from exc
    task = kinds.spec_of(project.kind).task
    if task not in strategy.tasks:
        valid = [n for n in al.strategy_names() if task in al.get_strategy(n).tasks]
        raise ValidationFailed(
            f"Strategy '{name}' does not work on {project.kind} projects; valid: {', '.join(valid)}.",
            extra={"valid": valid},
        )
    return strategy


def fallback_check(*, project: Project, name: str) -> al.Strategy:
    """The model-free strategy by name, if it runs on this project's kind without a model."""
    strategy = strategy_check(project=project, name=name)
    if strategy.needs_model:
        task = kinds.spec_of(project.kind).task
        valid = [n for n in cold_start_names() if task in al.get_strategy(n).tasks]
        raise ValidationFailed(
            f"The fallback strategy must work without a model; '{name}' needs one. "
            f"Valid: {', '.join(valid)}.",
            extra={"valid": valid},
        )
    return strategy


def fallback_of(*, project: Project, config: RoundConfig) -> str:
    """The project's model-free strategy: its own setting, else its kind's."""
    return config.fallback_strategy or kinds.spec_of(project.kind).model_free_strategy


def _annotation_count(project: Project) -> int:
    return Annotation.objects.filter(project=project, was_cancelled=False).count()


def round_start(
    *,
    project: Project,
    trigger: Round.Trigger | str,
    strategy: str | None = None,
    batch_size: int | None = None,
    buffer_size: int | None = None,
    seed: int | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: User | None = None,
) -> Round:
    """Record a pending round and run it (as a Celery task) once this transaction commits.

    Unset arguments come from the project's round settings. ``parameters`` may hold
    ``committee_size``, ``cost_fp``, ``cost_fn``, ``max_annotators_per_item``, ``gold_share``.
    Refused while another round of the project is pending or running. The round records the
    project's model-free strategy (``fallback_strategy``, used when its model shows no signal)
    and audit share (``audit_percent``).
    """
    config = round_config_get(project=project)
    name = strategy or config.strategy
    chosen = strategy_check(project=project, name=name)
    fallback = fallback_check(project=project, name=fallback_of(project=project, config=config)).name
    count = _annotation_count(project)
    if chosen.needs_model and count == 0:
        raise ValidationFailed(
            f"Strategy '{name}' needs a trained model but the project has no annotations yet; "
            f"start with one of: {', '.join(cold_start_names())}.",
        )
    params = {
        "batch_size": batch_size if batch_size is not None else config.batch_size,
        "buffer_size": buffer_size if buffer_size is not None else config.buffer_size,
        "validation_percent": config.validation_percent,
        "cost_fp": config.cost_fp,
        "cost_fn": config.cost_fn,
        "committee_size": 5,
        "max_annotators_per_item": config.max_annotators_per_item,
        "gold_share": al.DEFAULT_GOLD_SHARE,
        "audit_percent": config.audit_percent,
        **(parameters or {}),
        "fallback_strategy": fallback,
    }
    round_values_check({**params, **({"seed": seed} if seed is not None else {})})
    if params["batch_size"] < 1 or params["buffer_size"] < 0:
        raise ValidationFailed("batch_size must be at least 1 and buffer_size at least 0.")
    try:
        with transaction.atomic():
            number = (Round.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
            round_ = Round.objects.create(
                project=project,
                number=number,
                trigger=trigger,
                strategy=chosen.name,
                parameters=params,
                seed=seed if seed is not None else secrets.randbits(32),
                model_version=f"workbench-round-{number}",
                annotation_count=count,
                created_by=created_by if created_by is not None and created_by.pk else None,
            )
    except IntegrityError as exc:
        active = Round.objects.filter(
            project=project, status__in=[Round.Status.PENDING, Round.Status.RUNNING]
        ).first()
        what = f"Round {active.number} is still {active.status}" if active else "Another round is active"
        extra = {"round_id": active.id if active else None}
        raise Conflict(f"{what}; wait for it to finish.", extra=extra) from exc
    _enqueue(round_.id)
    return round_


def _enqueue(round_id: int) -> None:
    from workbench.rounds import tasks

    transaction.on_commit(lambda: tasks.run_round.delay(round_id))


def round_auto_start_if_due(*, project: Project) -> Round | None:
    """Start a round when the project asks for one every N annotations and N new ones arrived
    since the last round. Safe to call any number of times: a round counts the annotations it
    started from, and only one round per project can be active."""
    every = RoundConfig.objects.filter(project=project).values_list("auto_round_every", flat=True).first()
    if not every:
        return None
    last = (
        Round.objects.filter(project=project)
        .order_by("-number")
        .values_list("annotation_count", flat=True)
        .first()
    )
    if _annotation_count(project) - (last or 0) < every:
        return None
    try:
        with transaction.atomic():
            return round_start(project=project, trigger=Round.Trigger.AUTO)
    except (Conflict, ValidationFailed) as exc:
        log.info("automatic round for project %s not started: %s", project.id, exc.message)
        return None


def round_run(*, round_id: int) -> None:
    """Run a pending round. Runs twice safely: the first run claims it; a redelivered task
    takes over only a round whose worker was lost (running for longer than STALE_AFTER)."""
    now = timezone.now()
    claimed = (
        Round.objects.filter(id=round_id)
        .filter(
            Q(status=Round.Status.PENDING) | Q(status=Round.Status.RUNNING, started_at__lt=now - STALE_AFTER)
        )
        .update(status=Round.Status.RUNNING, started_at=now)
    )
    if not claimed:
        return
    round_ = Round.objects.select_related("project").get(id=round_id)
    try:
        _execute(round_)
    except Exception as exc:  # the round records any failure; the task itself is done
        log.exception("round %s failed", round_id)
        Round.objects.filter(id=round_id).update(
            status=Round.Status.FAILED,
            error=f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"[:5000],
            finished_at=timezone.now(),
        )


def _execute(round_: Round) -> None:
    project, params = round_.project, round_.parameters
    started = time.perf_counter()
    timings: dict[str, float] = {}
    snap = snapshot_take(
        project=project,
        validation_percent=int(params["validation_percent"]),
        follow_up_cap=_follow_up_cap(round_),
    )
    timings["load"] = time.perf_counter() - started
    if not len(snap.pool):
        raise ValidationFailed(
            "Every item outside the validation slice has all its annotations; nothing to queue."
        )

    t = time.perf_counter()
    needed, row = _feature_rows(snap)
    X, model_id, embedded = embeddings.features_of_columns(
        project.kind, [[column[p] for p in needed] for column in snap.texts], dtype=np.float16
    )
    timings["embed"] = time.perf_counter() - t

    result = _run_library(round_, snap, X, row)
    timings.update({f"al_{k}": v for k, v in result.timings.items()})

    order = _queue_order(result.positions, result.scores)
    batch = order[: int(params["batch_size"])]
    pool_item_ids = np.asarray(snap.item_ids, dtype=np.int64)[snap.pool]
    push_count = len(batch) + int(params["buffer_size"])
    t = time.perf_counter()
    follow_ups = _follow_ups(round_, snap, order[:push_count])
    published = queue_publish(
        project=project,
        ordered_item_ids=pool_item_ids[order],
        push_count=push_count,
        model_version=round_.model_version,
        follow_up_tasks=follow_ups,
    )
    timings["publish"] = time.perf_counter() - t
    metrics, threshold = _metrics(round_, snap, X, row, result)
    scores = validation_scores(snap, X, row, result, seed=round_.seed)
    timings["total"] = time.perf_counter() - started
    audit = set(_audit_rows(result))
    predicted = _predicted(result, snap.kind)
    readiness = result.readiness
    with transaction.atomic():
        RoundSelection.objects.bulk_create(
            RoundSelection(
                round=round_,
                item_id=int(pool_item_ids[i]),
                rank=rank,
                priority=_finite(result.scores[i]),
                audit=i in audit,
                predicted=None if predicted is None else _finite(predicted[i]),
            )
            for rank, i in enumerate(batch.tolist())
        )
        Round.objects.filter(id=round_.id).update(
            status=Round.Status.DONE,
            # "embedded": texts this round had to embed (the cache lacked them; 0 when the
            # background jobs had caught up with the imports).
            parameters={
                **params,
                "featurizer": model_id,
                "k": len(batch),
                "follow_ups": len(follow_ups),
                "embedded": embedded,
            },
            training_size=len(snap.train),
            validation_size=len(snap.validation),
            pool_size=len(snap.pool),
            pushed_count=published.pushed,
            predicted_count=published.predicted,
            timings={k: round(v, 4) for k, v in timings.items()},
            metrics=metrics,
            threshold=threshold,
            validation_scores=scores and {**scores, "item_ids": [snap.item_ids[p] for p in snap.validation]},
            strategy_used=result.strategy,
            strategy_reason=result.fallback_reason,
            signal=Round.Signal.SIGNAL if readiness and readiness.signal else Round.Signal.NO_SIGNAL,
            readiness=readiness and {k: _json_value(v) for k, v in readiness.as_dict().items()},
            finished_at=timezone.now(),
        )
    round_model_save(round_, result.model, model_id)  # logs a failed write; the round stays done


def _audit_rows(result: al.RoundResult) -> list[int]:
    """Pool rows the round drew for its audit slice."""
    if result.audit is None:
        return []
    return [int(p) for p, drawn in zip(result.positions, result.audit, strict=True) if drawn]


def _predicted(result: al.RoundResult, kind: kinds.Kind) -> np.ndarray | None:
    """The model's one number per pool row: P(toxic) / P(A), or the largest per-label P."""
    proba = result.pool_proba
    if proba is None:
        return None
    return proba.max(axis=1) if kinds.spec_of(kind).multiple else proba[:, 1]


def _json_value(value: Any) -> Any:
    return _finite(value) if isinstance(value, float) else value


def _feature_rows(snap: Snapshot) -> tuple[list[int], dict[int, int]]:
    """The positions whose features a round reads, in the order of its feature rows: the pool
    first, in pool order (the library then takes ``X[:n_pool]``, a view: a copy of a million
    rows would cost a second and 768 MB), then the training and validation items outside the
    pool; and the row of each training and validation item."""
    labeled = np.union1d(np.asarray(snap.train, dtype=np.intp), np.asarray(snap.validation, dtype=np.intp))
    pooled = np.isin(labeled, snap.pool)
    outside = labeled[~pooled]
    rows = np.empty(labeled.shape[0], dtype=np.intp)
    rows[pooled] = np.searchsorted(snap.pool, labeled[pooled])
    rows[~pooled] = len(snap.pool) + np.arange(outside.shape[0])
    row = dict(zip(labeled.tolist(), rows.tolist(), strict=True))
    return np.concatenate([snap.pool, outside]).tolist(), row


def _run_library(round_: Round, snap: Snapshot, X: Any, row: dict[int, int]) -> al.RoundResult:
    """The library's round on features ``X`` laid out by :func:`_feature_rows`."""
    params = round_.parameters
    spec = kinds.spec_of(snap.kind)
    task = spec.task
    strategy = al.get_strategy(round_.strategy)
    has_val = bool(snap.validation) and bool(snap.train)
    try:
        return al.run_round(
            al.LabeledSet(X[[row[p] for p in snap.train]], snap.targets(snap.train_targets)),
            al.Pool(
                X[: len(snap.pool)],
                texts=snap.joined_texts(snap.pool.tolist()) if "texts" in strategy.requires else None,
                annotations=votes_matrix(snap) if "annotations" in strategy.requires else None,
                max_annotations=_follow_up_cap(round_) or round_.project.annotators_per_item,
                vote_counts=snap.pool_directions,
                gold=snap.pool_gold,
                min_annotations=round_.project.annotators_per_item,
            ),
            strategy,
            min(int(params["batch_size"]), len(snap.pool)),
            np.random.default_rng(round_.seed),
            validation=al.ValidationSlice(
                X[[row[p] for p in snap.validation]], snap.targets(snap.validation_targets)
            )
            if has_val
            else None,
            options=al.RoundOptions(
                task=task,
                label_names=list(spec.labels) if spec.multiple else None,
                committee_size=int(params.get("committee_size", 5)),
                cost_fp=float(params["cost_fp"]),
                cost_fn=float(params["cost_fn"]),
                gold_share=float(params.get("gold_share", al.DEFAULT_GOLD_SHARE)),
                fallback=str(params.get("fallback_strategy") or spec.model_free_strategy),
                audit_share=float(params.get("audit_percent", 0.0)) / 100.0,
            ),
        )
    except al.ActiveLearningError as exc:
        raise ValidationFailed(str(exc)) from exc


def _follow_up_cap(round_: Round) -> int | None:
    """The cap on annotators per item when the round's strategy, or the model-free strategy it
    falls back to without a signal, sends split items to more annotators (it reads the votes:
    ``split_votes``); None otherwise. The snapshot is taken before the model is assessed, so a
    preference round asked for ``margin`` still sees the split items its fallback would queue."""
    names = [round_.strategy, round_.parameters.get("fallback_strategy") or ""]
    if not any(name and "vote_counts" in al.get_strategy(name).requires for name in names):
        return None
    cap = int(round_.parameters.get("max_annotators_per_item", 5))
    return max(cap, round_.project.annotators_per_item)


def _follow_ups(round_: Round, snap: Snapshot, head: NDArray[np.intp]) -> dict[int, int]:
    """Follow-up tasks for the items at the head of the queue whose own task is full
    (workbench/rounds/follow_ups.py): {item id: task id}. An item with its answers but no task
    of its own (answered outside Label Studio's queue) is pushed like any other instead."""
    full = [
        snap.item_ids[snap.pool[i]]
        for i in head.tolist()
        if snap.pool_answered[i] >= round_.project.annotators_per_item
    ]
    if full:
        in_label_studio = set(
            Item.objects.filter(id__in=full, ls_task_id__isnull=False).values_list("id", flat=True)
        )
        full = [item_id for item_id in full if item_id in in_label_studio]
    return follow_ups_open(project=round_.project, round_=round_, item_ids=full)


def _queue_order(positions: np.ndarray, scores: np.ndarray) -> NDArray[np.intp]:
    """Pool rows in serving order: the selected batch as selected, then every other eligible row
    by priority (ties by item order). Rows scored -inf (ineligible) are left out."""
    chosen = np.asarray(positions, dtype=np.intp)
    taken = np.zeros(scores.shape[0], dtype=bool)
    taken[chosen] = True
    rest = np.nonzero(~taken & np.isfinite(scores))[0]
    rest = rest[np.argsort(-scores[rest], kind="stable")]
    return np.concatenate([chosen, rest.astype(np.intp)])


def _metrics(
    round_: Round, snap: Snapshot, X: Any, row: dict[int, int], result: al.RoundResult
) -> tuple[dict[str, float | None], dict[str, Any] | None]:
    """Validation metrics (from the library) and the cost-based threshold(s): one for binary,
    one per label for multi-label (each label that has positives in the slice)."""
    metrics = {k: _finite(v) for k, v in result.metrics.items()}
    if result.threshold is not None:
        return metrics, asdict(result.threshold)
    if not kinds.spec_of(snap.kind).multiple or result.model is None or not snap.validation:
        return metrics, None
    P = result.model.predict_proba(X[[row[p] for p in snap.validation]])
    Y = snap.targets(snap.validation_targets).astype(np.int64)
    params = round_.parameters
    per_label = {
        name: asdict(
            al.choose_threshold(
                Y[:, j], P[:, j], cost_fp=float(params["cost_fp"]), cost_fn=float(params["cost_fn"])
            )
        )
        for j, name in enumerate(kinds.spec_of(snap.kind).labels)
        if Y[:, j].any()
    }
    return metrics, per_label or None


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
