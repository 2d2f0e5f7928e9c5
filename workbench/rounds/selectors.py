from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from workbench.errors import NotFound
from workbench.projects.models import Project
from workbench.projects.selectors import project_get
from workbench.rounds.models import EmbeddingProgress, Round, RoundSelection


def rounds_of(project: Project) -> QuerySet[Round]:
    return Round.objects.filter(project=project).order_by("-number")


def round_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int, round_id: int) -> Round:
    project = project_get(user=user, project_id=project_id)
    round_ = Round.objects.filter(project=project, id=round_id).first()
    if round_ is None:
        raise NotFound(f"Round {round_id} does not exist in project {project_id}.")
    return round_


def selection_of(round_: Round) -> QuerySet[RoundSelection]:
    return round_.selections.select_related("item").order_by("rank")


@dataclass(frozen=True)
class EmbeddingCounts:
    """How far the background embedding of a project's items got (one row read, no counting)."""

    model_id: str
    embedded: int
    total: int
    chunks: int
    chunks_done: int


def embedding_progress(project: Project) -> EmbeddingCounts:
    row = EmbeddingProgress.objects.filter(project=project).first()
    if row is None:
        return EmbeddingCounts("", 0, 0, 0, 0)
    return EmbeddingCounts(row.model_id, min(row.embedded, row.total), row.total, row.chunks, row.chunks_done)
