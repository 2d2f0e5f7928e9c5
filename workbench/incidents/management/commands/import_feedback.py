import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.incidents.services import feedback_import
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Import production feedback (CSV or JSONL, optionally .gz: text, score, report[, note, "
        "model_version]) as a feedback batch of a project: every row or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("path", type=Path)
        parser.add_argument("--model-version", default="", help="the deployed model that scored the rows")
        parser.add_argument("--release", type=int, default=None, help="the release it was trained on")
        parser.add_argument("--note", default="", help="what happened, in a sentence")
        parser.add_argument(
            "--columns",
            default=None,
            help='JSON mapping of contract fields to file columns, e.g. \'{"text": "comment_text"}\'',
        )

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        path: Path = options["path"]  # type: ignore[assignment]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            columns = json.loads(str(options["columns"])) if options["columns"] else None
        except json.JSONDecodeError as exc:
            raise CommandError(f"--columns is not valid JSON: {exc.msg}") from exc
        try:
            with path.open("rb") as stream:  # read as a stream under the size limits, never whole
                batch = feedback_import(
                    project=project,
                    source=path.name,
                    content=stream,
                    model_version=str(options["model_version"]),
                    release_version=options["release"],  # type: ignore[arg-type]
                    note=str(options["note"]),
                    columns=columns,
                )
        except WorkbenchError as exc:
            for error in exc.extra.get("errors", [])[:20]:
                self.stderr.write(
                    f"  {error['file']}: row {error['row']}, {error['field']}: {error['message']}"
                )
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Feedback batch {batch.id}: {batch.rows} rows, {batch.created_count} new items, "
                f"{batch.linked_count} rows on items already in the project."
            )
        )
        self.stdout.write(f"Report: manage.py feedback_report {project.id} {batch.id}")
