import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.incidents import selectors
from workbench.incidents.markdown import report_markdown
from workbench.incidents.report import triage_report
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = "Print a feedback batch's triage report (Markdown, or the JSON of the API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("batch", type=int, help="feedback batch id")
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            report = triage_report(selectors.batch_get(project=project, batch_id=int(str(options["batch"]))))
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(report_markdown(report), ending="")
