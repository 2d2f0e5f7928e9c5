"""Safety-audit pages: a project's audits (identity groups, the drift verdict of the last import,
flagged annotators, each round's fairness), and one round's fairness table, plot and model card.
Access as the rounds pages (``workbench.pages``). Thin: read, render, or call one service."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workbench.audits import plots, selectors
from workbench.audits.services.fairness import fairness_audit_run
from workbench.errors import ValidationFailed
from workbench.pages import page_context, page_project_get
from workbench.quality.views import admin_page as signed_in_page
from workbench.releases.views import render_markdown
from workbench.rounds.models import Round


@signed_in_page
def project_audits(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    audits_by_round = selectors.fairness_of(project=project)
    rounds = [
        {"round": r, "audit": audits_by_round.get(r.id)}
        for r in Round.objects.filter(project=project, status=Round.Status.DONE).order_by("-number")
    ]
    label_audit = selectors.label_audit_latest(project=project)
    return render(
        request,
        "audits/project.html",
        {
            **page_context(user=request.user, project=project, tab="audits"),
            "identity": selectors.identity_summary(project=project),
            "drift": selectors.drift_of_last_import(project=project),
            "checks": list(selectors.drift_checks(project=project)[:10]),
            "label_audit": label_audit,
            "flagged": label_audit.report["flagged"] if label_audit else [],
            "rounds": rounds,
        },
    )


def _round(request: HttpRequest, project_id: int, round_id: int) -> Round:
    project = page_project_get(user=request.user, project_id=project_id)
    round_ = Round.objects.filter(project=project, id=round_id).select_related("project").first()
    if round_ is None:
        raise Http404(f"Round {round_id} does not exist in project {project_id}.")
    return round_


@signed_in_page
def round_fairness(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    round_ = _round(request, project_id, round_id)
    audit = selectors.fairness_get(round_=round_)
    return render(
        request,
        "audits/round.html",
        {
            **page_context(user=request.user, project=round_.project, tab="audits"),
            "round": round_,
            "audit": audit,
            "report": audit.report if audit else None,
            "model_card": render_markdown(audit.model_card) if audit else None,
            "error": "",
        },
    )


@require_POST
@signed_in_page
def round_fairness_run(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    round_ = _round(request, project_id, round_id)
    try:
        fairness_audit_run(round_=round_)
    except ValidationFailed as exc:
        return render(
            request,
            "audits/round.html",
            {
                **page_context(user=request.user, project=round_.project, tab="audits"),
                "round": round_,
                "audit": None,
                "report": None,
                "model_card": None,
                "error": exc.message,
            },
            status=400,
        )
    return redirect("audits:round", project_id=round_.project_id, round_id=round_.id)


@signed_in_page
def round_fairness_plot(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    audit = selectors.fairness_get(round_=_round(request, project_id, round_id))
    if audit is None:
        raise Http404("This round has no fairness audit yet.")
    return HttpResponse(plots.group_aucs_svg(audit.report), content_type="image/svg+xml")


@signed_in_page
def round_model_card(request: HttpRequest, project_id: int, round_id: int) -> HttpResponse:
    round_ = _round(request, project_id, round_id)
    audit = selectors.fairness_get(round_=round_)
    if audit is None:
        raise Http404("This round has no model card yet.")
    response = HttpResponse(audit.model_card, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="model-card-round-{round_.number}.md"'
    return response
