from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from workbench.accounts.selectors import is_admin
from workbench.errors import NotFound
from workbench.projects.models import Item, Project


def projects_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    """Admins see every project; everyone else sees the projects they belong to."""
    projects = Project.objects.all()
    if not is_admin(user):
        # An anonymous user (pk None) belongs to no project; filtering on None would mean "no members".
        user_id = user.pk
        projects = projects.none() if user_id is None else projects.filter(projectmembership__user_id=user_id)
    return projects.annotate(pushed_count=Coalesce(Subquery(_pushed_counts()), 0)).order_by("id")


def _pushed_counts() -> QuerySet[Any]:
    """Per project, its items with a Label Studio task: read from the partial index on pushed
    items (``item_unique_ls_task``), so it costs the pushed items, not the pool. The pool's size
    is ``Project.item_count``, kept by the import service."""
    return (
        Item.objects.filter(project=OuterRef("pk"), ls_task_id__isnull=False)
        .order_by()
        .values("project")
        .annotate(n=Count("*"))
        .values("n")
    )


def pushed_count(project: Project) -> int:
    return Item.objects.filter(project=project, ls_task_id__isnull=False).count()


def project_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Project:
    # Someone else's project is "not found", not "forbidden": its existence is not theirs to know.
    project = projects_visible_to(user).filter(id=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} does not exist or is not yours.")
    return project


def items_of(project: Project) -> QuerySet[Item]:
    return project.items.order_by("id")
