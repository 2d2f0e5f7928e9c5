"""/metrics: what the collector reads from the database, who may scrape, and the dashboard."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.factories import api_client
from workbench.annotations.models import Annotation, WebhookEvent
from workbench.ops import services as ops_services
from workbench.projects.models import Item
from workbench.projects.services import items_push
from workbench.quality.models import QualityRun
from workbench.rounds.models import Round

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def scrape(
    client: Client | None = None, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = (client or Client()).get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def annotate(item: Item, ls_id: int, *, user: int, label: str | None, minutes_ago: float = 1) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    Annotation.objects.create(
        project=item.project,
        item=item,
        ls_annotation_id=ls_id,
        ls_user_id=user,
        label=label,
        was_cancelled=label is None,
        ls_created_at=at,
        source=Annotation.Source.WEBHOOK,
        synced_at=at,
    )


@pytest.fixture
def populated(fake_gateway):  # type: ignore[no-untyped-def]
    """Two projects with items, annotations, rounds, a quality run; webhook events; counters."""
    first, second = factories.project(), factories.project()
    factories.toxicity_items(first, 5)
    factories.toxicity_items(second, 2)
    items_push(project=first, limit=3)
    a, b, c = Item.objects.filter(project=first).order_by("id")[:3]
    annotate(a, 1, user=1, label="toxic")
    annotate(a, 2, user=2, label="toxic")
    annotate(b, 3, user=1, label="non-toxic", minutes_ago=30)  # outside the 10-minute window
    annotate(c, 4, user=1, label=None)  # skipped: not labeled
    now = timezone.now()
    Round.objects.create(
        project=first,
        number=1,
        status="done",
        trigger="api",
        strategy="random",
        seed=1,
        model_version="r1",
        timings={"total": 4.0},
        metrics={"f1": 0.5},
    )
    Round.objects.create(
        project=first,
        number=2,
        status="done",
        trigger="api",
        strategy="margin",
        seed=1,
        model_version="r2",
        timings={"total": 2.5},
        metrics={"f1": 0.75, "pr_auc": 0.8, "f1/x": 0.1},
    )
    Round.objects.create(
        project=first,
        number=3,
        status="failed",
        trigger="auto",
        strategy="margin",
        seed=1,
        model_version="r3",
    )
    QualityRun.objects.create(
        project=first,
        status="done",
        finished_at=now,
        summary={"statistics": {"krippendorff_alpha": {"value": 0.61, "ci_low": 0.4, "ci_high": 0.8}}},
    )
    WebhookEvent.objects.create(action="ANNOTATION_CREATED", payload={}, processed_at=now)
    WebhookEvent.objects.create(action="ANNOTATION_CREATED", payload={})
    failed = WebhookEvent.objects.create(action="ANNOTATION_UPDATED", payload={}, error="boom")
    WebhookEvent.objects.filter(id=failed.id).update(received_at=now - timedelta(seconds=120))
    ops_services.reconcile_run_record(project_id=first.id, report={"created": 2, "updated": 1, "deleted": 0})
    ops_services.reconcile_run_record(project_id=first.id, report=None)
    ops_services.task_outcome_record(task="workbench.x.boom", outcome="failure")
    ops_services.task_outcome_record(task="workbench.x.boom", outcome="failure")
    return first, second


def test_the_collector_reads_each_fact_from_the_database(populated) -> None:  # type: ignore[no-untyped-def]
    first, second = populated
    s = scrape()
    p1, p2 = (("project", first.name),), (("project", second.name),)
    assert s[("workbench_items_pool", p1)] == 5
    assert s[("workbench_items_pool", p2)] == 2
    assert s[("workbench_items_in_label_studio", p1)] == 3
    assert s[("workbench_items_in_label_studio", p2)] == 0
    assert s[("workbench_items_labeled", p1)] == 2
    assert s[("workbench_annotations_total", p1)] == 3
    assert s[("workbench_annotations_per_minute", p1)] == pytest.approx(2 / 10)
    assert s[("workbench_round_duration_seconds", p1)] == 2.5  # the newest finished round
    assert s[("workbench_round_validation_metric", (("metric", "f1"), *p1))] == 0.75
    assert s[("workbench_round_validation_metric", (("metric", "pr_auc"), *p1))] == 0.8
    assert not any(k[0] == "workbench_round_validation_metric" and ("metric", "f1/x") in k[1] for k in s)
    assert s[("workbench_rounds_total", (*p1, ("status", "failed")))] == 1
    assert s[("workbench_rounds_total", (*p1, ("status", "done")))] == 2
    assert s[("workbench_agreement_krippendorff_alpha", p1)] == 0.61
    created, updated = (("action", "ANNOTATION_CREATED"),), (("action", "ANNOTATION_UPDATED"),)
    assert s[("workbench_webhook_events_received_total", created)] == 2
    assert s[("workbench_webhook_events_processed_total", created)] == 1
    assert s[("workbench_webhook_events_unprocessed", created)] == 1
    assert s[("workbench_webhook_events_failed", created)] == 0
    assert s[("workbench_webhook_events_failed", updated)] == 1
    assert 119 < s[("workbench_webhook_processing_lag_seconds", ())] < 600
    assert s[("workbench_reconcile_runs_total", (("outcome", "success"), *p1))] == 1
    assert s[("workbench_reconcile_runs_total", (("outcome", "failure"), *p1))] == 1
    assert s[("workbench_reconcile_fixes_total", (("kind", "created"), *p1))] == 2
    assert s[("workbench_reconcile_fixes_total", (("kind", "updated"), *p1))] == 1
    assert s[("workbench_celery_tasks_total", (("outcome", "failure"), ("task", "workbench.x.boom")))] == 2


def test_failed_events_are_read_from_whatever_the_model_records() -> None:
    from workbench.ops.metrics import _webhook_failed

    assert _webhook_failed({"id", "failed_at", "error"}) == Q(failed_at__isnull=False)
    assert _webhook_failed({"id", "error"}) == ~Q(error="") & Q(error__isnull=False)
    WebhookEvent.objects.create(action="ANNOTATION_CREATED", payload={}, error="boom")
    assert WebhookEvent.objects.filter(_webhook_failed({"id", "error"})).count() == 1
    assert WebhookEvent.objects.filter(_webhook_failed({"id"})).count() == 0  # nothing recorded: none failed


def test_without_waiting_events_the_lag_is_zero() -> None:
    WebhookEvent.objects.create(action="ANNOTATION_CREATED", payload={}, processed_at=timezone.now())
    assert scrape()[("workbench_webhook_processing_lag_seconds", ())] == 0


def test_the_collector_runs_a_fixed_number_of_queries_whatever_the_pool_size(populated) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workbench.ops.metrics import DatabaseCollector

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            families = list(DatabaseCollector().collect())
        assert len(families) == 17
        return len(captured.captured_queries)

    before = queries()
    factories.toxicity_items(populated[1], 300)
    factories.toxicity_items(factories.project(), 50)
    assert queries() == before <= 11


def test_request_latency_is_labelled_by_route_not_by_path(populated) -> None:  # type: ignore[no-untyped-def]
    first, _ = populated
    client = api_client(factories.user())
    for project_id in (first.id, 999_999):
        client.get(f"/api/projects/{project_id}/")
    s = scrape()
    route = "/api/projects/<int:project_id>/"
    counts = {k[1]: v for k, v in s.items() if k[0] == "workbench_http_request_duration_seconds_count"}
    assert counts[(("method", "GET"), ("route", route), ("status", "404"))] >= 2
    assert not any(str(first.id) in dict(labels)["route"] for labels in counts)


def test_made_up_methods_and_paths_do_not_make_new_series() -> None:
    for n in range(3):
        Client().generic(f"BREW{n}", "/healthz")
        Client().get(f"/no-such-page-{n}/")
    s = scrape()
    labels = [dict(k[1]) for k in s if k[0] == "workbench_http_request_duration_seconds_count"]
    assert {"method": "other", "route": "/healthz", "status": "405"} in labels
    assert {"method": "GET", "route": "unmatched", "status": "404"} in labels
    assert not any(label["method"].startswith("BREW") or "no-such-page" in label["route"] for label in labels)


def test_metrics_answer_only_loopback_callers_without_a_token() -> None:
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    refused = Client(REMOTE_ADDR="10.1.2.3").get("/metrics")
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.json()["message"]
    # A proxy on this host relays outside callers from 127.0.0.1.
    relayed = Client(REMOTE_ADDR="127.0.0.1").get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403


def test_with_a_token_metrics_need_it_from_everyone(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "scrape-me-0123456789"
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403
    wrong = Client(REMOTE_ADDR="10.1.2.3").get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = Client(REMOTE_ADDR="10.1.2.3").get(
        "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
    )
    assert right.status_code == 200


def dashboard_metric_names() -> set[str]:
    dashboard = json.loads((ROOT / "ops" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return {name for expr in exprs for name in re.findall(r"\bworkbench_[a-z_]+", expr)}


def test_the_dashboard_queries_only_exported_metrics(populated) -> None:  # type: ignore[no-untyped-def]
    Client().get("/healthz")  # at least one request measured
    exported = {name for name, _ in scrape()}
    queried = dashboard_metric_names()
    assert len(queried) >= 15
    assert queried - exported == set()


def test_the_alert_rules_query_only_exported_metrics(populated) -> None:  # type: ignore[no-untyped-def]
    import yaml

    Client().get("/healthz")
    exported = {name for name, _ in scrape()}
    rules = yaml.safe_load((ROOT / "ops" / "prometheus-alerts.yml").read_text())["groups"][0]["rules"]
    queried = {name for rule in rules for name in re.findall(r"\bworkbench_[a-z_]+", rule["expr"])}
    assert len(queried) >= 6
    assert queried - exported == set()


def test_the_dashboard_shows_every_metric_family_the_workbench_exports(populated) -> None:  # type: ignore[no-untyped-def]
    Client().get("/healthz")
    exported = {name for name, _ in scrape() if name.startswith("workbench_")}
    # A histogram's _sum is not charted: the dashboard uses its buckets and count.
    charted = dashboard_metric_names() | {"workbench_http_request_duration_seconds_sum"}
    assert exported - charted == set()
