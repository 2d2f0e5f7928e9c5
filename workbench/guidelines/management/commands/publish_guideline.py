from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.guidelines.selection import Selection
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
        parser.add_argument(
            "--relabel-identity-group",
            action="append",
            default=[],
            help="open a relabel campaign: items in this identity group (repeat: any of them)",
        )
        parser.add_argument(
            "--relabel-score-min", type=float, default=None, help="... whose model score is at least this"
        )
        parser.add_argument(
            "--relabel-score-max", type=float, default=None, help="... whose model score is at most this"
        )
        parser.add_argument(
            "--relabel-release", type=int, default=None, help="... that are in this release (version)"
        )
        parser.add_argument("--user", default="", help="e-mail of the user recorded as its author")

    def handle(self, *args: object, **options: Any) -> None:
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
                relabel=Selection(
                    label=str(options["relabel_label"]),
                    pattern=str(options["relabel_pattern"]),
                    identity_groups=tuple(options["relabel_identity_group"]),
                    score_min=options["relabel_score_min"],
                    score_max=options["relabel_score_max"],
                    release=options["relabel_release"],
                ),
            )
        except WorkbenchError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        self.stdout.write(
            f"Published guideline v{version.version} of '{project.name}'; "
            f"{version.tasks_updated} open task(s) now carry it."
        )
        for campaign in version.campaigns.all():
            self.stdout.write(
                f"Relabel campaign {campaign.id}: {campaign.tasks.count()} item(s) queued, "
                f"ordered by {campaign.ordering} ({campaign.ordering_note})."
            )
