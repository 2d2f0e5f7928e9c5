from django.core.management.base import CommandError

from workbench.projects.models import Project


def project_named(name: str) -> Project:
    project = Project.objects.filter(name=name).first()
    if project is None:
        raise CommandError(f"No project named '{name}'.")
    return project
