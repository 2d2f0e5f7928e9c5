"""What management commands share when reading their arguments."""

from django.core.management.base import CommandError

from workbench.projects.models import Project


def project_by_name_or_id(reference: str) -> Project:
    """The project a command names, by id (all digits) or else by name."""
    project = Project.objects.filter(id=int(reference)).first() if reference.isdigit() else None
    project = project or Project.objects.filter(name=reference).first()
    if project is None:
        raise CommandError(f"No project named or numbered '{reference}'.")
    return project
