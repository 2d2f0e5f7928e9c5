"""Pages for active-learning rounds: a project's learning curve and rounds, and one round's
precision-recall curve, threshold costs, timings and queued batch. Thin: read, render."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from workbench.pages import page_context, page_project_get, page_projects
from workbench.projects import kinds
from workbench.quality import plots
from workbench.quality.views import admin_page as signed_in_page
from workbench.releases.models import Release
from workbench.rounds import evaluation, savings, selectors
from workbench.rounds.models import Round

PHASES = (
    "load",
    "embed",
    "al_fit",
    "al_predict",
    "al_committee",
    "al_score",
    "al_select",
    "publish",
    "total",
)


@signed_in_page
def index(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "project": p,
            "rounds": Round.objects.filter(project=p, status=Round.Status.DONE).count(),
            "releases": Release.objects.filter(project=p, status=Release.Status.PUBLISHED).count(),
        }
        for p in page_projects(user=request.user)
    ]
    return render(
        request, "rounds/index.html", {**page_context(user=request.user, project=None, tab=""), "rows": rows}
    )


def _point_row(point: evaluation.LearningPoint) -> dict[str, Any]:
    low, high = point.interval or (None, None)
    return {
        "number": point.number,
        "training_size": point.training_size,
        "value": point.value,
        "low": low,
        "high": high,
        "pr_auc": point.pr_auc,
        "method": point.interval_method,
    }


@signed_in_page
def project_rounds(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    rounds = list(selectors.rounds_of(project))
    points = {r.id: _point_row(evaluation.learning_point(r)) for r in rounds if r.status == Round.Status.DONE}
    rows = [{"round": r, "point": points.get(r.id), "threshold": _threshold_text(r)} for r in rounds]
    latest = next((r for r in rounds if r.status == Round.Status.DONE), None)
    return render(
        request,
        "rounds/project.html",
        {
            **page_context(user=request.user, project=project, tab="rounds"),
            "rows": rows,
            "latest": latest,
            "savings": savings.round_savings(latest) if latest else None,
            "metric": evaluation.HEADLINE_METRIC[kinds.Kind(project.kind)],
            "embedding": selectors.embedding_progress(project),
        },
    )


def _threshold_text(round_: Round) -> str:
    chosen = round_.threshold
    if not chosen:
        return ""
    if "threshold" in chosen:
        return f"{chosen['threshold']:.3f}"
    return ", ".join(f"{name} {value['threshold']:.3f}" for name, value in chosen.items())


def _round(request: HttpRequest, project_id: int, round_id: int) -> Round:
    project = page_project_get(user=request.user, project_id=project_id)
    round_ = selectors.rounds_of(project).filter(id=round_id).select_related("project").first()
    if round_ is None:
        raise Http404(f"Round {round_id} does not exist in project {project_id}.")
    return round_


@signed_in_page
def round_detail(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    round_ = _round(request, project_id, round_id)
    batch = list(selectors.selection_of(round_))
    for selection in batch:
        data = selection.item.data
        selection.text = data.get("text") or data.get("prompt", "")  # type: ignore[attr-defined]
    timings = [(phase, round_.timings[phase]) for phase in PHASES if phase in round_.timings]
    timings += [(k, v) for k, v in round_.timings.items() if k not in PHASES]
    point = _point_row(evaluation.learning_point(round_)) if round_.status == Round.Status.DONE else None
    return render(
        request,
        "rounds/round.html",
        {
            **page_context(user=request.user, project=round_.project, tab="rounds"),
            "round": round_,
            "point": point,
            "metrics": sorted(round_.metrics.items()),
            "timings": timings,
            "views": evaluation.threshold_views(round_),
            "batch": batch,
            "savings": savings.round_savings(round_) if round_.status == Round.Status.DONE else None,
        },
    )


@signed_in_page
def learning_curve_plot(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    done = selectors.rounds_of(project).filter(status=Round.Status.DONE).order_by("number")
    points = [_point_row(evaluation.learning_point(r)) for r in done]
    metric = evaluation.HEADLINE_METRIC[kinds.Kind(project.kind)]
    return HttpResponse(plots.learning_curve_svg(points, metric=metric), content_type="image/svg+xml")


@signed_in_page
def pr_curve_plot(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    round_ = _round(request, project_id, round_id)
    curves = [
        {
            "label": view.label,
            "recall": view.recall,
            "precision": view.precision,
            "chosen": None
            if view.chosen is None
            else {
                "recall": view.chosen.recall,
                "precision": view.chosen.precision,
                "threshold": view.chosen.threshold,
            },
        }
        for view in evaluation.threshold_views(round_)
    ]
    return HttpResponse(plots.pr_curves_svg(curves), content_type="image/svg+xml")
