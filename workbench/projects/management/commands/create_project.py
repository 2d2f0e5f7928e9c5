"""Create a project here and in Label Studio (what ``POST /api/projects/`` does), choosing its
kind and labeling config."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.projects.kinds import SPECS, Kind
from workbench.projects.services import project_create


class Command(BaseCommand):
    help = "Create a project (kind, labeling config, annotators per item) here and in Label Studio."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=[k.value for k in Kind])
        parser.add_argument("--annotators-per-item", type=int, default=1)
        parser.add_argument(
            "--label-config",
            default=None,
            choices=sorted({name for spec in SPECS.values() for name in spec.config_names}),
            help="the kind's default when left out; preference_graded.xml: the 7-point graded scale",
        )
        parser.add_argument("--description", default="")

    def handle(self, *args: object, **options: object) -> None:
        try:
            project = project_create(
                name=str(options["name"]),
                kind=str(options["kind"]),
                annotators_per_item=int(options["annotators_per_item"]),  # type: ignore[call-overload]
                description=str(options["description"]),
                label_config=options["label_config"],  # type: ignore[arg-type]
            )
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created project {project.id} '{project.name}' ({project.kind}, "
                f"{project.label_config_name}, Label Studio project {project.ls_project_id})."
            )
        )
