from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.annotations.services import annotations_reconcile
from workbench.errors import WorkbenchError
from workbench.projects.models import Project


class Command(BaseCommand):
    help = (
        "Read the annotations of the tasks changed in Label Studio since the last run and fix what "
        "webhooks missed (all projects by default); --full reads every task."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", nargs="?", help="project name (default: all)")
        parser.add_argument(
            "--full", action="store_true", help="a full pass: every task, every item's task id"
        )

    def handle(self, *args: object, **options: object) -> None:
        projects = Project.objects.filter(ls_project_id__isnull=False).order_by("id")
        if options["project"]:
            projects = projects.filter(name=options["project"])
            if not projects:
                raise CommandError(f"No project named '{options['project']}'.")
        for project in projects:
            try:
                report = annotations_reconcile(project=project, full=bool(options["full"]))
            except WorkbenchError as exc:
                raise CommandError(f"{project.name}: {exc.message}") from exc
            summary = ", ".join(f"{k} {v}" for k, v in asdict(report).items())
            self.stdout.write(f"{project.name}: {summary}")
