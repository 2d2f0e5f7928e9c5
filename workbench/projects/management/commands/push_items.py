from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.projects.models import Project
from workbench.projects.services import items_push


class Command(BaseCommand):
    help = "Send pool items that Label Studio does not have yet to it as tasks (oldest first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name")
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args: object, **options: object) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"No project named '{options['project']}'.")
        if options["limit"] is not None and int(options["limit"]) < 0:  # type: ignore[call-overload]
            raise CommandError(f"--limit must be 0 or more; got {options['limit']}.")
        try:
            pushed = items_push(project=project, limit=options["limit"])  # type: ignore[arg-type]
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"{pushed} items pushed to Label Studio."))
