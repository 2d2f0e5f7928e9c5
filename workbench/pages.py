"""Who may open the rounds and releases pages: admins and ML engineers who are members of the
project (admins see every project). Someone else's project is not found (404); an annotator
who is a member is refused (403), as in the API."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from workbench.accounts.selectors import can_manage_projects, is_admin
from workbench.errors import Forbidden
from workbench.projects.models import Project
from workbench.projects.selectors import project_get, projects_visible_to

REFUSED = "Only admins and ML engineers can see the rounds and releases pages."


def page_project_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Project:
    project = project_get(user=user, project_id=project_id)
    if not can_manage_projects(user):
        raise Forbidden(REFUSED)
    return project


def page_projects(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    if not can_manage_projects(user):
        raise Forbidden(REFUSED)
    return projects_visible_to(user)


def page_context(
    *, user: AbstractBaseUser | AnonymousUser, project: Project | None, tab: str
) -> dict[str, object]:
    """What the shared layout (quality/base.html) needs: the quality tabs are for admins only."""
    return {"project": project, "tab": tab, "hide_quality": not is_admin(user)}
