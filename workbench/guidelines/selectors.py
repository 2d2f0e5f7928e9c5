"""Reads: the versions of a project's guideline, the one in force, and per-version statistics of
the answers that count (the vote policy's ``counted_answers``, grouped by the guideline version
each answer was made under)."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet

import label_quality as lq
from workbench import votes
from workbench.accounts.selectors import can_manage_projects, is_admin
from workbench.annotations.models import Annotation
from workbench.errors import Forbidden, NotFound, ValidationFailed
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign
from workbench.projects.kinds import KindSpec, Label, spec_of
from workbench.projects.models import Project
from workbench.projects.selectors import project_get

STATS_CACHE_SECONDS = 3600


def guideline_project_get(
    *, user: AbstractBaseUser | AnonymousUser, project_id: int, publish: bool
) -> Project:
    """The project, for someone who may see it: admins may publish, admins and ML engineers may
    read; another member (an annotator) is refused (403), someone else's project not found (404)."""
    project = project_get(user=user, project_id=project_id)
    if publish and not is_admin(user):
        raise Forbidden("Only admins can publish guidelines.")
    if not can_manage_projects(user):
        raise Forbidden("Only admins and ML engineers can read guideline statistics.")
    return project


def versions_of(project: Project) -> QuerySet[GuidelineVersion]:
    return GuidelineVersion.objects.filter(project=project).order_by("version")


def version_get(*, project: Project, version: int) -> GuidelineVersion:
    found = versions_of(project).filter(version=version).first()
    if found is None:
        raise NotFound(f"Project {project.id} has no guideline version {version}.")
    return found


def version_current(project: Project) -> GuidelineVersion:
    found = versions_of(project).order_by("-version").first()
    if found is None:
        raise ValidationFailed(f"Project {project.id} has no published guideline; publish one first.")
    return found


def campaigns_of(project: Project) -> QuerySet[RelabelCampaign]:
    return (
        RelabelCampaign.objects.filter(version__project=project)
        .select_related("version__project")
        .order_by("id")
    )


def campaign_get(*, project: Project, campaign_id: int) -> RelabelCampaign:
    found = campaigns_of(project).filter(id=campaign_id).first()
    if found is None:
        raise NotFound(f"Project {project.id} has no relabel campaign {campaign_id}.")
    return found


def current_version(project: Project) -> int | None:
    """The version in force (the newest published), None before the first."""
    latest = versions_of(project).order_by("-version").values_list("version", flat=True).first()
    return latest


def versions_in_force(
    *, project: Project, answers: Sequence[tuple[Any, datetime | None]]
) -> list[int | None]:
    """The guideline version each answer (stamp, made at) of one project was made under, with at
    most one query (ingest batches of thousands of answers): the one its task's data carries,
    unless the answer is older than that version's publication (the task was re-stamped after it
    was answered, e.g. before the answer was synced): then the newest earlier version published
    before the answer was made, or None if it predates every guideline. ``made at`` is Label
    Studio's creation time of the answer."""
    published: list[tuple[int, datetime]] | None = None
    found: list[int | None] = []
    for stamped, made_at in answers:
        if not isinstance(stamped, int) or isinstance(stamped, bool) or stamped < 1:
            found.append(None)
        elif made_at is None:
            found.append(stamped)
        else:
            if published is None:
                published = list(versions_of(project).values_list("version", "published_at"))
            found.append(max((v for v, at in published if v <= stamped and at <= made_at), default=None))
    return found


def stamped_versions(project: Project) -> list[int]:
    """The guideline versions the project's answers were made under, in order."""
    found = (
        Annotation.objects.filter(project=project, guideline_version__isnull=False)
        .values_list("guideline_version", flat=True)
        .distinct()
    )
    return sorted(v for v in found if v is not None)


def version_stats(project: Project) -> list[dict[str, Any]]:
    """Per guideline version (null: answers made before any guideline): items, answers,
    annotators, the label distribution and Krippendorff's alpha of the counted answers made
    under it.

    Cached under a key made of the project's answers and versions (how many, the newest id and
    sync time; every create, update and delete of an answer changes one of them), so the
    dashboard reads every answer only when one changed, not on every page view."""
    answers = Annotation.objects.filter(project=project).aggregate(
        n=Count("id"), top=Max("id"), synced=Max("synced_at")
    )
    versions = GuidelineVersion.objects.filter(project=project).aggregate(n=Count("id"), top=Max("id"))
    state = (project.id, project.kind, *answers.values(), *versions.values())
    key = "guideline-version-stats:" + hashlib.sha256(repr(state).encode()).hexdigest()
    stats = cache.get(key)
    if stats is None:
        stats = _version_stats(project)
        cache.set(key, stats, STATS_CACHE_SECONDS)
    return cast(list[dict[str, Any]], stats)


def _version_stats(project: Project) -> list[dict[str, Any]]:
    spec = spec_of(project.kind)
    grouped: dict[int | None, dict[int, list[votes.Answer]]] = {}
    for item_id, answers in votes.counted_answers(project=project, spec=spec).items():
        for answer in answers:
            grouped.setdefault(answer.guideline_version, {}).setdefault(item_id, []).append(answer)
    published = {v.version: v for v in versions_of(project)}
    out = []
    for version in sorted(set(grouped) | set(published), key=lambda v: (v is not None, v or 0)):
        by_item = grouped.get(version, {})
        answers = [a for item in by_item.values() for a in item]
        row = published.get(version) if version is not None else None
        out.append(
            {
                "version": version,
                "published_at": row.published_at if row is not None else None,
                "note": row.note if row is not None else "",
                "items": len(by_item),
                "answers": len(answers),
                "annotators": len({a.ls_user_id for a in answers}),
                "multi_rated_items": sum(len(item) >= 2 for item in by_item.values()),
                "label_counts": _label_counts(spec, [a.label for a in answers]),
                "krippendorff_alpha": _alpha(spec, by_item),
            }
        )
    return out


def _label_counts(spec: KindSpec, labels: Sequence[Label]) -> dict[str, int]:
    """Answers per class (multi-label: answers that ticked each category), in the kind's order."""
    if spec.multiple:
        ticks = Counter(category for label in labels for category in set(label))
    else:
        ticks = Counter(str(label) for label in labels)
    return {name: ticks[name] for name in spec.labels}


def _alpha(spec: KindSpec, by_item: dict[int, list[votes.Answer]]) -> float | None:
    """Nominal alpha over an items x annotators matrix (NaN = no answer); multi-label: one
    yes/no row per (item, category). None when no item has two answers."""
    annotators = sorted({a.ls_user_id for answers in by_item.values() for a in answers})
    column = {user: n for n, user in enumerate(annotators)}
    rows: list[list[float]] = []
    for answers in by_item.values():
        if spec.multiple:
            for category in spec.labels:
                row = [math.nan] * len(annotators)
                for a in answers:
                    row[column[a.ls_user_id]] = float(category in a.label)
                rows.append(row)
        else:
            row = [math.nan] * len(annotators)
            for a in answers:
                row[column[a.ls_user_id]] = float(spec.code(str(a.label)))
            rows.append(row)
    if not rows:
        return None
    k = 2 if spec.multiple else len(spec.codes)
    alpha = lq.krippendorff_alpha(np.array(rows, dtype=np.float64), k)
    return None if math.isnan(alpha) else alpha
