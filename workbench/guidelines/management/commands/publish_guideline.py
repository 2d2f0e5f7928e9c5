from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.guidelines.services import guideline_publish
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = "Publish the next guideline version of a project from a Markdown file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name")
        parser.add_argument("file", help="Markdown file with the guideline's full text")
        parser.add_argument("--note", required=True, help="what changed in this version")
        parser.add_argument(
            "--relabel-label", default="", help="open a relabel campaign: older answers' label"
        )
        parser.add_argument(
            "--relabel-pattern", default="", help="open a relabel campaign: regex over the text"
        )
        parser.add_argument("--user", default="", help="e-mail of the user recorded as its author")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        path = Path(str(options["file"]))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read it as UTF-8 text ({exc}).") from exc
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(email=options["user"]).first()
            if user is None:
                raise CommandError(f"No user with e-mail '{options['user']}'.")
        try:
            version = guideline_publish(
                project=project,
                text=text,
                note=str(options["note"]),
                author=user,
                relabel_label=str(options["relabel_label"]),
                relabel_pattern=str(options["relabel_pattern"]),
            )
        except WorkbenchError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        self.stdout.write(
            f"Published guideline v{version.version} of '{project.name}'; "
            f"{version.tasks_updated} open task(s) now carry it."
        )
        for campaign in version.campaigns.all():
            self.stdout.write(f"Relabel campaign {campaign.id}: {campaign.tasks.count()} item(s) queued.")
