from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

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
    return projects.annotate(
        item_count=Count("items", distinct=True),
        pushed_count=Count("items", filter=Q(items__ls_task_id__isnull=False), distinct=True),
    ).order_by("id")


def project_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Project:
    # Someone else's project is "not found", not "forbidden": its existence is not theirs to know.
    project = projects_visible_to(user).filter(id=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} does not exist or is not yours.")
    return project


def items_of(project: Project) -> QuerySet[Item]:
    return project.items.order_by("id")
