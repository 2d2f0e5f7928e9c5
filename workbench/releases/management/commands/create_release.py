from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.projects.models import Project
from workbench.releases.models import Release
from workbench.releases.records import FilterPolicy
from workbench.releases.services import release_build, release_create


class Command(BaseCommand):
    help = "Create the next dataset release of a project and build it now (in this process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name")
        parser.add_argument("--tag", default="")
        parser.add_argument("--min-annotators", type=int, default=1)
        parser.add_argument("--min-quality", type=float, default=None)
        parser.add_argument("--include-open-label-issues", action="store_true")
        parser.add_argument("--consensus-method", default=None, help="default: the project's quality setting")
        parser.add_argument(
            "--guideline-versions",
            default="all",
            choices=["all", "current"],
            help="current: only answers made under the guideline version in force",
        )
        parser.add_argument(
            "--formats", default="", help="comma-separated: jsonl,csv,parquet,trl,trl_conversational"
        )
        parser.add_argument("--split", default="0.8,0.1,0.1", help="train,validation,test ratios")
        parser.add_argument("--user", default="", help="e-mail of the user recorded as its creator")

    def handle(self, *args: object, **options: object) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"No project named '{options['project']}'.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(email=options["user"]).first()
            if user is None:
                raise CommandError(f"No user with e-mail '{options['user']}'.")
        try:
            ratios = [float(x) for x in str(options["split"]).split(",")]
            train, validation, test = ratios
        except ValueError as exc:
            raise CommandError("--split takes three numbers: train,validation,test") from exc
        formats = [f for f in str(options["formats"]).split(",") if f]
        try:
            release = release_create(
                project=project,
                created_by=user,
                tag=str(options["tag"]),
                policy=FilterPolicy(
                    min_annotators=int(options["min_annotators"]),  # type: ignore[call-overload]
                    min_quality=options["min_quality"],  # type: ignore[arg-type]
                    exclude_open_label_issues=not options["include_open_label_issues"],
                    consensus_method=options["consensus_method"],  # type: ignore[arg-type]
                    guideline_versions=str(options["guideline_versions"]),
                ),
                split_ratios={"train": train, "validation": validation, "test": test},
                formats=formats or None,
            )
            # With a broker the worker may build it too; whichever claims it first does.
            release_build(release_id=release.id)
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        release = Release.objects.get(id=release.id)
        if release.status == Release.Status.FAILED:
            raise CommandError(f"Release {release.version} failed: {release.error}")
        self.stdout.write(
            f"{project.name}: release {release.version} {release.status}, {release.record_count} records, "
            f"excluded {release.excluded}"
        )
