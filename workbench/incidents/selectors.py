"""Reads: a project's feedback batches for someone who may see them (admins and ML engineers of
the project; an annotator member 403, someone else's project 404), where the deployed model came
from, and the labels the batch's items have under the current guideline."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from workbench import votes
from workbench.accounts.selectors import can_manage_projects
from workbench.errors import Forbidden, NotFound
from workbench.guidelines.selectors import current_version
from workbench.incidents.models import FeedbackBatch, FeedbackEntry
from workbench.projects.kinds import Label, spec_of
from workbench.projects.models import Project
from workbench.projects.selectors import project_get
from workbench.releases.models import Release
from workbench.rounds.models import Round

DEFAULT_THRESHOLD = 0.5


def feedback_project_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Project:
    project = project_get(user=user, project_id=project_id)
    if not can_manage_projects(user):
        raise Forbidden("Only admins and ML engineers can import and triage production feedback.")
    return project


def batches_of(project: Project) -> QuerySet[FeedbackBatch]:
    return FeedbackBatch.objects.filter(project=project).select_related("project").order_by("-id")


def batch_get(*, project: Project, batch_id: int) -> FeedbackBatch:
    found = batches_of(project).filter(id=batch_id).first()
    if found is None:
        raise NotFound(f"Project {project.id} has no feedback batch {batch_id}.")
    return found


def entries_of(batch: FeedbackBatch) -> list[FeedbackEntry]:
    return list(FeedbackEntry.objects.filter(batch=batch).order_by("row"))


def published_releases(project: Project) -> QuerySet[Release]:
    return Release.objects.filter(project=project, status=Release.Status.PUBLISHED).order_by("-version")


@dataclass(frozen=True)
class Provenance:
    """Where the deployed model came from, and how that was found out."""

    round: Round | None
    release: Release | None
    matched_by: list[str] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD
    threshold_source: str = "0.5 (no round matched the model version)"


def provenance_of(batch: FeedbackBatch) -> Provenance:
    """The batch's ``model_version`` as a round's ``model_version``, else a published release's
    tag or recorded ``model_version``; the importer's release (``release_version``) wins. The
    round of a release is the last round it recorded. The decision threshold is the round's own
    (chosen from its cost settings when it ran)."""
    project, version = batch.project, batch.model_version
    matched: list[str] = []
    releases = published_releases(project)
    release = None
    if batch.release_version is not None:
        release = releases.filter(version=batch.release_version).first()
        matched.append(f"release {batch.release_version} as given at import")
    round_ = Round.objects.filter(project=project, model_version=version).first() if version else None
    if round_ is not None:
        matched.append(f"round {round_.number} by its model_version {version!r}")
    if release is None and version:
        release = releases.filter(tag=version).first()
        if release is not None:
            matched.append(f"release {release.version} by its tag {version!r}")
        else:
            release = releases.filter(model_version=version).first()
            if release is not None:
                matched.append(f"release {release.version}, the newest built on {version!r}")
    if round_ is None and release is not None and release.last_round_id is not None:
        round_ = Round.objects.filter(project=project, id=release.last_round_id).first()
        if round_ is not None:
            matched.append(f"round {round_.number}, the last round release {release.version} recorded")
    chosen = (round_.threshold or {}).get("threshold") if round_ is not None else None
    if round_ is not None and chosen is not None:
        return Provenance(
            round_, release, matched, float(chosen), f"round {round_.number}'s chosen threshold"
        )
    source = f"0.5 (round {round_.number} chose none)" if round_ is not None else Provenance.threshold_source
    return Provenance(round_, release, matched, DEFAULT_THRESHOLD, source)


def training_reference(batch: FeedbackBatch) -> str:
    """What the batch's inputs are compared with: the deployed model's release, else the newest
    published release, else the project's items imported before the batch."""
    release = provenance_of(batch).release or published_releases(batch.project).first()
    return f"release:{release.version}" if release is not None else f"before:{batch.item_import_id}"


def latest_round(project: Project) -> Round | None:
    return Round.objects.filter(project=project, status=Round.Status.DONE).order_by("-number").first()


def current_labels(*, project: Project, item_ids: list[int]) -> tuple[dict[int, Label], int | None]:
    """The consensus of each item's counted answers made under the guideline in force (all
    counted answers while the project has none), and that version."""
    spec = spec_of(project.kind)
    version = current_version(project)
    counted = votes.counted_answers(project=project, spec=spec, item_ids=item_ids, guideline_version=version)
    labels: dict[int, Label] = {}
    for item_id, answers in counted.items():
        decided = votes.consensus(spec, [a.label for a in answers])
        if decided is not None:
            labels[item_id] = decided
    return labels, version
