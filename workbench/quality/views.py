"""The admin dashboard: server-rendered pages behind login, admin role only. Thin: read with
selectors, act with services, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workbench.errors import Forbidden, NotFound, WorkbenchError
from workbench.guidelines.selectors import version_stats
from workbench.quality import plots, selectors, services
from workbench.quality.models import QualitySettings


def admin_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the workbench's errors become Django's 404 / 403 pages."""

    @login_required(login_url="quality:login")
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapped


def _context(request: HttpRequest, project_id: int, tab: str) -> dict[str, Any]:
    project = selectors.quality_project_get(user=request.user, project_id=project_id)
    run = selectors.latest_run(project)
    return {
        "project": project,
        "run": run,
        "summary": run.summary if run else {},
        "tab": tab,
        "settings": services.quality_settings_get(project=project),
    }


@admin_page
def index(request: HttpRequest) -> HttpResponse:
    projects = [
        {"project": p, "overview": selectors.overview(p), "run": selectors.latest_run(p)}
        for p in selectors.quality_projects(user=request.user)
    ]
    return render(request, "quality/index.html", {"projects": projects})


@admin_page
def project_overview(request: HttpRequest, project_id: int) -> HttpResponse:
    context = _context(request, project_id, "overview")
    names = selectors.annotator_names(context["project"])
    pairs = [
        {**p, "a_name": names.get(p["a"], p["a"]), "b_name": names.get(p["b"], p["b"])}
        for p in context["summary"].get("pairs", [])
    ]
    statistics = [
        {"name": key.replace("_", " "), **value}
        for key, value in context["summary"].get("statistics", {}).items()
    ]
    return render(
        request,
        "quality/overview.html",
        {
            **context,
            "overview": selectors.overview(context["project"]),
            "pairs": pairs,
            "statistics": statistics,
            "audit_annotators": [
                {**a, "name": names.get(a["ls_user_id"], a["ls_user_id"])}
                for a in context["summary"].get("preference_audit", {}).get("annotators", [])
            ],
            "guideline_stats": version_stats(context["project"]),
        },
    )


@admin_page
def annotators(request: HttpRequest, project_id: int) -> HttpResponse:
    context = _context(request, project_id, "annotators")
    return render(
        request,
        "quality/annotators.html",
        {**context, "annotators": selectors.annotators_of(context["project"])},
    )


@admin_page
def issues(request: HttpRequest, project_id: int) -> HttpResponse:
    context = _context(request, project_id, "issues")
    status = request.GET.get("status") or None
    project = context["project"]
    shown = list(selectors.issues_of(project, status=status)[:500])
    for issue in shown:
        issue.text = issue.item.data.get("text") or issue.item.data.get("prompt", "")  # type: ignore[attr-defined]
    return render(
        request,
        "quality/issues.html",
        {
            **context,
            "issues": shown,
            "status": status,
            "changes": selectors.changes_of(project)[:100],
        },
    )


@admin_page
@require_POST
def issue_review(request: HttpRequest, project_id: int, issue_id: int) -> HttpResponse:
    project = selectors.quality_project_get(user=request.user, project_id=project_id)
    issue = selectors.issue_get(project=project, issue_id=issue_id)
    try:
        issue = services.label_issue_send_to_review(issue=issue, user=cast(User, request.user))  # login
        messages.success(
            request, f"Item {issue.item_id} sent to review (Label Studio task {issue.review_ls_task_id})."
        )
    except WorkbenchError as exc:
        messages.error(request, exc.message)
    return redirect("quality:issues", project_id=project.id)


@admin_page
@require_POST
def recompute(request: HttpRequest, project_id: int) -> HttpResponse:
    project = selectors.quality_project_get(user=request.user, project_id=project_id)
    try:
        run = services.quality_recompute_request(project=project, trigger="dashboard")
    except WorkbenchError as exc:
        messages.error(request, exc.message)
        return redirect("quality:overview", project_id=project.id)
    run.refresh_from_db()
    messages.info(request, f"Computation {run.id}: {run.status}.")
    return redirect("quality:overview", project_id=project.id)


@admin_page
def plot(request: HttpRequest, project_id: int, name: str) -> HttpResponse:
    project = selectors.quality_project_get(user=request.user, project_id=project_id)
    run = selectors.latest_run(project)
    summary = run.summary if run else {}
    if name == "trend":
        svg = plots.trend_svg(summary.get("trend", []))
    elif name == "annotators":
        config: QualitySettings = services.quality_settings_get(project=project)
        rows = [
            {
                "name": a.annotator.email if a.annotator else f"LS user {a.ls_user_id}",
                "agreement": a.agreement,
                "gold_accuracy": a.gold_accuracy,
                "crowdlab_quality": a.crowdlab_quality,
                "flagged": a.flagged,
            }
            for a in selectors.annotators_of(project)
        ]
        svg = plots.annotators_svg(rows, threshold=config.agreement_threshold)
    elif name == "consensus":
        svg = plots.quality_histogram_svg(
            [q for q in selectors.consensus_of(project).values_list("quality", flat=True) if q is not None]
        )
    else:
        raise Http404(f"No plot named {name!r}.")
    return HttpResponse(svg, content_type="image/svg+xml")
