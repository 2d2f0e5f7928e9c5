from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.audits.selectors import audit_settings_get
from workbench.audits.services.identity import identity_assign, rule_of
from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Assign identity groups to every item of a project (identity columns from the project's audit "
        "settings, else the lexicon) and print how many items mention each group."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            counts = identity_assign(project=project)
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        rule = rule_of(audit_settings_get(project=project))
        self.stdout.write(f"{project.items.count()} items; groups from {rule}.")
        for group, n in counts.items():
            self.stdout.write(f"  {group}: {n}")
        if not counts:
            self.stdout.write("  no item mentions any group")
