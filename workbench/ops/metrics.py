"""Prometheus metrics: request latency measured in this process, everything else read from the
database at scrape time by one collector, with one aggregate query per metric family (a pool of
millions of items costs a GROUP BY, never a per-request counter).

Several gunicorn workers each measure their own requests; with ``PROMETHEUS_MULTIPROC_DIR`` set
(``ops/gunicorn.conf.py``) their samples are summed at scrape time by prometheus_client.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# `_created` series (a timestamp per label set) only double what is exported; the dashboard uses none.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client

REQUEST_LATENCY = Histogram(
    "workbench_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL pattern, not the path) and method.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

# The window behind workbench_annotations_per_minute.
ANNOTATION_RATE_WINDOW = timedelta(minutes=10)


def route_of(request: HttpRequest) -> str:
    """The matched URL pattern ("api/projects/<int:project_id>/items/"): bounded, unlike paths."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return "/" + str(match.route)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(request: HttpRequest) -> str:
    """The HTTP method, or "other": a client may send any word there, and each would be a series."""
    return request.method if request.method in _METHODS else "other"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            route=route_of(request), method=_method(request), status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


class DatabaseCollector(Collector):
    """Every gauge and counter that the database already knows, computed when scraped."""

    def collect(self) -> Iterator[Metric]:
        from workbench.projects.models import Project

        names = dict(Project.objects.values_list("id", "name"))
        yield from self._webhooks()
        yield from self._items(names)
        yield from self._annotations(names)
        yield from self._rounds(names)
        yield from self._agreement(names)
        yield from self._reconciliation(names)
        yield from self._tasks()

    def _webhooks(self) -> Iterator[Metric]:
        from workbench.annotations.models import WebhookEvent

        failed = _webhook_failed({f.name for f in WebhookEvent._meta.get_fields()})
        pending = Q(processed_at__isnull=True)
        rows = WebhookEvent.objects.values("action").annotate(
            received=Count("id"),
            processed=Count("id", filter=~pending),
            failed=Count("id", filter=pending & failed),
            unprocessed=Count("id", filter=pending),
        )
        received = CounterMetricFamily(
            "workbench_webhook_events_received", "Webhook calls stored, by action.", labels=["action"]
        )
        processed = CounterMetricFamily(
            "workbench_webhook_events_processed",
            "Stored webhook events processed, by action.",
            labels=["action"],
        )
        failed_g = GaugeMetricFamily(
            "workbench_webhook_events_failed",
            "Webhook events whose processing failed and that are still unprocessed, by action.",
            labels=["action"],
        )
        unprocessed = GaugeMetricFamily(
            "workbench_webhook_events_unprocessed",
            "Webhook events stored but not processed yet (failed ones included), by action.",
            labels=["action"],
        )
        for row in rows:
            action = [row["action"]]
            received.add_metric(action, row["received"])
            processed.add_metric(action, row["processed"])
            failed_g.add_metric(action, row["failed"])
            unprocessed.add_metric(action, row["unprocessed"])
        oldest = WebhookEvent.objects.filter(pending).aggregate(oldest=Min("received_at"))["oldest"]
        lag = GaugeMetricFamily(
            "workbench_webhook_processing_lag_seconds",
            "Age of the oldest unprocessed webhook event (0 when none is waiting).",
        )
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield from (received, processed, failed_g, unprocessed, lag)

    def _items(self, names: dict[int, str]) -> Iterator[Metric]:
        from workbench.annotations.models import Annotation
        from workbench.projects.models import Item

        pool = GaugeMetricFamily("workbench_items_pool", "Items in the workbench's pool.", labels=["project"])
        in_ls = GaugeMetricFamily(
            "workbench_items_in_label_studio", "Items pushed to Label Studio as tasks.", labels=["project"]
        )
        for row in Item.objects.values("project_id").annotate(
            pool=Count("id"), in_ls=Count("id", filter=Q(ls_task_id__isnull=False))
        ):
            label = [_project(names, row["project_id"])]
            pool.add_metric(label, row["pool"])
            in_ls.add_metric(label, row["in_ls"])
        labeled = GaugeMetricFamily(
            "workbench_items_labeled", "Items with at least one non-skipped annotation.", labels=["project"]
        )
        for counted in (
            Annotation.objects.filter(was_cancelled=False)
            .values("project_id")
            .annotate(n=Count("item_id", distinct=True))
        ):
            labeled.add_metric([_project(names, counted["project_id"])], counted["n"])
        yield from (pool, in_ls, labeled)

    def _annotations(self, names: dict[int, str]) -> Iterator[Metric]:
        from workbench.annotations.models import Annotation

        since = timezone.now() - ANNOTATION_RATE_WINDOW
        total = CounterMetricFamily(
            "workbench_annotations", "Non-skipped annotations mirrored from Label Studio.", labels=["project"]
        )
        rate = GaugeMetricFamily(
            "workbench_annotations_per_minute",
            f"Annotations made in the last {ANNOTATION_RATE_WINDOW.seconds // 60} minutes, per minute.",
            labels=["project"],
        )
        for row in (
            Annotation.objects.filter(was_cancelled=False)
            .values("project_id")
            .annotate(n=Count("id"), recent=Count("id", filter=Q(ls_created_at__gte=since)))
        ):
            label = [_project(names, row["project_id"])]
            total.add_metric(label, row["n"])
            rate.add_metric(label, row["recent"] / (ANNOTATION_RATE_WINDOW.total_seconds() / 60))
        yield from (total, rate)

    def _rounds(self, names: dict[int, str]) -> Iterator[Metric]:
        from workbench.rounds.models import Round

        runs = CounterMetricFamily(
            "workbench_rounds", "Active-learning rounds by status.", labels=["project", "status"]
        )
        for row in Round.objects.values("project_id", "status").annotate(n=Count("id")):
            runs.add_metric([_project(names, row["project_id"]), row["status"]], row["n"])
        # The newest finished round of each project (the ids are a subquery).
        last_ids = (
            Round.objects.filter(status=Round.Status.DONE)
            .values("project_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        duration = GaugeMetricFamily(
            "workbench_round_duration_seconds", "Duration of the newest finished round.", labels=["project"]
        )
        metric = GaugeMetricFamily(
            "workbench_round_validation_metric",
            "Validation metrics of the newest finished round (f1, precision, recall, pr_auc, ...).",
            labels=["project", "metric"],
        )
        for r in Round.objects.filter(id__in=last_ids).only("project_id", "timings", "metrics"):
            label = _project(names, r.project_id)
            total = (r.timings or {}).get("total")
            if isinstance(total, int | float):
                duration.add_metric([label], float(total))
            for key, value in (r.metrics or {}).items():
                # Per-label metrics ("f1/insult") are left out to keep the label set small.
                if "/" not in key and isinstance(value, int | float):
                    metric.add_metric([label, key], float(value))
        yield from (runs, duration, metric)

    def _agreement(self, names: dict[int, str]) -> Iterator[Metric]:
        from workbench.quality.models import QualityRun

        last_ids = (
            QualityRun.objects.filter(status=QualityRun.Status.DONE)
            .values("project_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        alpha = GaugeMetricFamily(
            "workbench_agreement_krippendorff_alpha",
            "Krippendorff's alpha of the newest quality run.",
            labels=["project"],
        )
        for run in QualityRun.objects.filter(id__in=last_ids).only("project_id", "summary"):
            value = (((run.summary or {}).get("statistics") or {}).get("krippendorff_alpha") or {}).get(
                "value"
            )
            if isinstance(value, int | float):
                alpha.add_metric([_project(names, run.project_id)], float(value))
        yield alpha

    def _reconciliation(self, names: dict[int, str]) -> Iterator[Metric]:
        from workbench.ops.models import ReconcileTotals

        runs = CounterMetricFamily(
            "workbench_reconcile_runs", "Reconciliation runs, by outcome.", labels=["project", "outcome"]
        )
        fixes = CounterMetricFamily(
            "workbench_reconcile_fixes",
            "Annotations reconciliation created, updated or deleted (what webhooks had missed).",
            labels=["project", "kind"],
        )
        for t in ReconcileTotals.objects.all():
            label = _project(names, t.project_id)
            runs.add_metric([label, "success"], t.runs - t.failed_runs)
            runs.add_metric([label, "failure"], t.failed_runs)
            for kind in ("created", "updated", "deleted"):
                fixes.add_metric([label, kind], getattr(t, kind))
        yield from (runs, fixes)

    def _tasks(self) -> Iterator[Metric]:
        from workbench.ops.models import TaskCounter

        tasks = CounterMetricFamily(
            "workbench_celery_tasks",
            "Celery task outcomes by task (success, failure, retry).",
            labels=["task", "outcome"],
        )
        for task, outcome, count in TaskCounter.objects.values_list("task", "outcome", "count"):
            tasks.add_metric([task, outcome], count)
        yield tasks


def _webhook_failed(fields: set[str]) -> Q:
    """Which stored events failed: a recorded failure time where the model has one, else a
    recorded error. (Read from the model's fields: its failure tracking is still growing.)"""
    if "failed_at" in fields:
        return Q(failed_at__isnull=False)
    for name in ("last_error", "error"):
        if name in fields:
            return ~Q(**{name: ""}) & Q(**{f"{name}__isnull": False})
    return Q(pk__in=[])


def _project(names: dict[int, str], project_id: int) -> str:
    return names.get(project_id, str(project_id))


class _ThisProcess(Collector):
    """The default registry (this process's request metrics, process and GC stats)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition() -> bytes:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_ThisProcess())
    return generate_latest(registry)
