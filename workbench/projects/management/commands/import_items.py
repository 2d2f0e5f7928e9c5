import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from workbench.audits.selectors import import_group_counts
from workbench.errors import WorkbenchError
from workbench.projects.models import Project
from workbench.projects.services import items_import


class Command(BaseCommand):
    help = "Import a CSV or JSONL file (optionally .gz) into a project's pool: every row or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name")
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--columns",
            default=None,
            help='JSON mapping of contract fields to file columns, e.g. \'{"text": "comment_text"}\'',
        )
        parser.add_argument(
            "--quiet", action="store_true", help="no progress bar (none either when stderr is no terminal)"
        )

    def handle(self, *args: object, **options: object) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"No project named '{options['project']}'.")
        path: Path = options["path"]  # type: ignore[assignment]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            columns = json.loads(str(options["columns"])) if options["columns"] else None
            quiet = bool(options["quiet"]) or not sys.stderr.isatty()
            with (
                path.open("rb") as stream,  # read as a stream under the size limits, never whole
                tqdm(
                    total=path.stat().st_size, unit="B", unit_scale=True, disable=quiet, file=sys.stderr
                ) as bar,
            ):

                def progress(rows: int, bytes_read: int) -> None:
                    bar.set_postfix_str(f"{rows} rows", refresh=False)
                    bar.update(bytes_read - bar.n)

                report = items_import(
                    project=project, source=path.name, content=stream, columns=columns, progress=progress
                )
        except json.JSONDecodeError as exc:
            raise CommandError(f"--columns is not valid JSON: {exc.msg}") from exc
        except WorkbenchError as exc:
            for error in exc.extra.get("errors", [])[:20]:
                self.stderr.write(
                    f"  {error['file']}: row {error['row']}, {error['field']}: {error['message']}"
                )
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} items imported from {report.rows} rows "
                f"({report.duplicates} duplicates skipped)."
            )
        )
        if report.near_identical:
            rows = ", ".join(f"row {r['row']} ({r['reason']})" for r in report.near_identical_rows[:20])
            self.stdout.write(f"{report.near_identical} pairs with (nearly) identical responses: {rows}")
        groups = import_group_counts(import_id=report.import_id)
        if groups is None:
            self.stdout.write(
                "Identity groups: a worker assigns them (manage.py audit_identity prints them)."
            )
        elif groups:
            self.stdout.write(
                "Items mentioning each identity group: " + ", ".join(f"{g} {n}" for g, n in groups.items())
            )
        else:
            self.stdout.write("No item mentions an identity group.")
