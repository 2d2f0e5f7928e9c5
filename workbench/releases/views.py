"""Pages for dataset releases: a project's versions, one version's datasheet and files, and
the diff of any two versions. Downloads go through the API's download endpoint (same access
rule, ETags and ranges); these pages only link to it. Thin: read, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from workbench.errors import Conflict, ValidationFailed
from workbench.pages import page_context, page_project_get
from workbench.quality.views import admin_page as signed_in_page
from workbench.releases import selectors, services
from workbench.releases.models import Release

# Raw HTML in the Markdown is escaped, not rendered: the datasheet carries the project's own
# description, which any ML engineer may write.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> SafeString:
    html: str = _MARKDOWN.render(text)
    return mark_safe(html)  # noqa: S308 - html is off, so the output is escaped


def download_url(project_id: int, version: int, name: str) -> str:
    from urllib.parse import urlencode

    base = reverse("release-download", kwargs={"project_id": project_id, "version": version})
    return f"{base}?{urlencode({'file': name})}"


@signed_in_page
def project_releases(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    releases = list(selectors.releases_of(user=request.user, project_id=project.id))
    published = [r.version for r in releases if r.status == Release.Status.PUBLISHED]
    return render(
        request,
        "releases/project.html",
        {
            **page_context(user=request.user, project=project, tab="releases"),
            "releases": releases,
            "published": published,
            "default_from": published[1] if len(published) > 1 else None,
            "default_to": published[0] if published else None,
        },
    )


@signed_in_page
def release_detail(request: HttpRequest, project_id: int, version: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    release = selectors.release_get(user=request.user, project_id=project.id, version=version)
    datasheet = selectors.release_datasheet(release=release)
    files = [
        {**entry, "url": download_url(project.id, release.version, entry["path"])}
        for entry in (release.manifest or {}).get("files", [])
    ]
    return render(
        request,
        "releases/release.html",
        {
            **page_context(user=request.user, project=project, tab="releases"),
            "release": release,
            "datasheet": render_markdown(datasheet) if datasheet is not None else None,
            "files": files,
            "manifest_url": download_url(project.id, release.version, "manifest.json")
            if release.status == Release.Status.PUBLISHED
            else None,
        },
    )


@signed_in_page
def release_diff(request: HttpRequest, project_id: int) -> HttpResponse:
    project = page_project_get(user=request.user, project_id=project_id)
    context = {**page_context(user=request.user, project=project, tab="releases")}
    raw = {key: request.GET.get(key, "") for key in ("from", "to")}
    bad = [key for key, value in raw.items() if not value.isdigit()]
    if bad:
        message = f"'{bad[0]}' must be a release version number; got {raw[bad[0]]!r}."
        return render(request, "releases/diff.html", {**context, "error": message}, status=400)
    old, new = (
        selectors.release_get(user=request.user, project_id=project.id, version=int(raw[key]))
        for key in ("from", "to")
    )
    try:
        summary, _folder = services.release_diff(old=old, new=new)
    except (ValidationFailed, Conflict) as exc:
        return render(request, "releases/diff.html", {**context, "error": exc.message}, status=exc.status)
    api = reverse("release-diff", kwargs={"project_id": project.id})
    return render(
        request,
        "releases/diff.html",
        {
            **context,
            "old": old,
            "new": new,
            "counts": sorted(summary["counts"].items()),
            "transitions": sorted(summary["relabel_transitions"].items(), key=lambda kv: (-kv[1], kv[0])),
            "attribution": sorted(summary.get("attribution", {}).items()),
            "unattributed": summary.get("relabeled_unattributed", 0),
            "lists": [
                {"format": fmt, "url": f"{api}?from={old.version}&to={new.version}&list={fmt}"}
                for fmt in ("csv", "jsonl")
            ],
        },
    )
