"""Incident pages: a project's feedback batches, and one batch's triage report (the figures as
tables, then the Markdown to paste into a postmortem). Access as the rounds pages
(``workbench.pages``). Thin: read, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workbench.incidents import selectors
from workbench.incidents.markdown import report_markdown
from workbench.incidents.report import triage_report
from workbench.pages import page_context, page_project_get
from workbench.quality.views import admin_page as signed_in_page
from workbench.releases.views import render_markdown


@signed_in_page
def project_batches(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    return render(
        request,
        "incidents/project.html",
        {
            **page_context(user=request.user, project=project, tab="incidents"),
            "batches": list(selectors.batches_of(project)),
        },
    )


@signed_in_page
def batch_report(request: HttpRequest, project_id: int, batch_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    report = triage_report(selectors.batch_get(project=project, batch_id=batch_id))
    markdown = report_markdown(report)
    return render(
        request,
        "incidents/report.html",
        {
            **page_context(user=request.user, project=project, tab="incidents"),
            "report": report,
            "markdown": markdown,
            "rendered": render_markdown(markdown),
        },
    )
