"""Reads for the quality pages and API. Admins only: the numbers name annotators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet

from workbench.accounts.selectors import is_admin
from workbench.annotations.models import Annotation
from workbench.errors import Forbidden
from workbench.projects.models import Project
from workbench.projects.selectors import project_get, projects_visible_to, pushed_count
from workbench.quality.models import (
    AnnotatorQuality,
    ItemConsensus,
    LabelChange,
    LabelIssue,
    QualityRun,
    QualitySettings,
)


def quality_project_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Project:
    """The project, for an admin who may see it; someone else's project is not found (404), a
    member who is not an admin is refused (403)."""
    project = project_get(user=user, project_id=project_id)
    if not is_admin(user):
        raise Forbidden("Only admins can see label quality.")
    return project


def quality_projects(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    if not is_admin(user):
        raise Forbidden("Only admins can see label quality.")
    return projects_visible_to(user)


def latest_run(project: Project) -> QualityRun | None:
    return project.quality_runs.filter(status=QualityRun.Status.DONE).order_by("-finished_at", "-id").first()


def consensus_method_of(project: Project) -> str:
    """The project's consensus method setting, without creating its settings row."""
    found = QualitySettings.objects.filter(project=project).values_list("consensus_method", flat=True).first()
    return found or str(QualitySettings._meta.get_field("consensus_method").get_default())


@dataclass(frozen=True)
class StoredConsensus:
    label: Any  # a label value, or a list of label names for multi-label; None when undecided
    quality: float | None
    n_annotations: int


def stored_consensus(*, item_ids: Sequence[int], method: str) -> dict[int, StoredConsensus]:
    """The latest quality run's consensus of ``method`` (``crowdlab`` or ``majority_vote``) for
    these items; items the run did not cover are left out. Each run replaces every row, so the
    rows there are the newest finished run's."""
    if method not in ("crowdlab", "majority_vote"):
        raise ValueError(f"no stored consensus for method {method!r}")
    prefix = "crowdlab" if method == "crowdlab" else "majority"
    rows = ItemConsensus.objects.filter(item_id__in=item_ids).values_list(
        "item_id", f"{prefix}_label", f"{prefix}_quality", "n_annotations"
    )
    return {item_id: StoredConsensus(label, quality, n) for item_id, label, quality, n in rows}


def items_with_active_issues(*, item_ids: Sequence[int]) -> set[int]:
    """Those of these items whose label issue is open or in review."""
    active = [LabelIssue.Status.OPEN, LabelIssue.Status.IN_REVIEW]
    return set(
        LabelIssue.objects.filter(item_id__in=item_ids, status__in=active).values_list("item_id", flat=True)
    )


def overview(project: Project) -> dict[str, Any]:
    """Pool, pushed (queued in Label Studio), labeled (enough answers), started, and rounds.

    None of them counts the pool: its size is kept on the project, pushed items are counted on
    their partial index and the answered ones from the answers, so a million-item pool costs what
    its pushed and answered items cost."""
    answered = (
        Annotation.objects.filter(project=project, was_cancelled=False)
        .order_by()
        .values("item")
        .annotate(answers=Count("id"))
    )
    counts: dict[str, Any] = {
        "pool": project.item_count,
        "pushed": pushed_count(project),
        "labeled": answered.filter(answers__gte=project.annotators_per_item).count(),
        "started": answered.count(),
    }
    counts["queued"] = counts["pushed"] - counts["labeled"]
    counts["rounds"] = None
    if apps.is_installed("workbench.rounds"):
        counts["rounds"] = apps.get_model("rounds", "Round").objects.filter(project=project).count()
    counts["open_issues"] = LabelIssue.objects.filter(project=project, status="open").count()
    counts["in_review"] = LabelIssue.objects.filter(project=project, status="in_review").count()
    counts["flagged_annotators"] = AnnotatorQuality.objects.filter(project=project, flagged=True).count()
    return counts


def annotators_of(project: Project) -> QuerySet[AnnotatorQuality]:
    return AnnotatorQuality.objects.filter(project=project).select_related("annotator").order_by("ls_user_id")


def consensus_of(project: Project) -> QuerySet[ItemConsensus]:
    return ItemConsensus.objects.filter(project=project).order_by("item_id")


def issues_of(project: Project, *, status: str | None = None) -> QuerySet[LabelIssue]:
    issues = LabelIssue.objects.filter(project=project).select_related("item", "review_requested_by")
    if status:
        issues = issues.filter(status=status)
    return issues.order_by("score", "id")


def issue_get(*, project: Project, issue_id: int) -> LabelIssue:
    from workbench.errors import NotFound

    issue = LabelIssue.objects.filter(project=project, id=issue_id).select_related("item", "project").first()
    if issue is None:
        raise NotFound(f"Label issue {issue_id} does not exist in this project.")
    return issue


def changes_of(project: Project, *, issue: LabelIssue | None = None) -> QuerySet[LabelChange]:
    changes = LabelChange.objects.filter(project=project).select_related("changed_by")
    if issue is not None:
        changes = changes.filter(issue=issue)
    return changes.order_by("-at", "-id")


def annotator_names(project: Project) -> dict[int, str]:
    """Label Studio user id -> the annotator's e-mail (or 'LS user N' when unknown here)."""
    rows = annotators_of(project)
    return {a.ls_user_id: (a.annotator.email if a.annotator else f"LS user {a.ls_user_id}") for a in rows}
