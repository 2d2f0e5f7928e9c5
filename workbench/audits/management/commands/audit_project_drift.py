from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.audits.models import DriftCheck
from workbench.audits.services.drift import drift_check_run
from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Drift check between two sources of a project's items, stored like the check after an "
        "import: import:ID (one import batch), before:ID (every import before it) or release:V."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("side_a", help="the reference, e.g. release:2")
        parser.add_argument("side_b", help="the side to compare, e.g. import:7")
        parser.add_argument("--seed", type=int, default=0, help="seed of the cross-validation and bootstrap")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            check = drift_check_run(
                project=project,
                side_a=str(options["side_a"]),
                side_b=str(options["side_b"]),
                trigger=DriftCheck.Trigger.COMMAND,
                seed=int(str(options["seed"])),
            )
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        sides = f"{check.side_a} ({check.n_a} items) against {check.side_b} ({check.n_b} items)"
        if check.status == DriftCheck.Status.SKIPPED:
            self.stdout.write(f"Not tested, {sides}: {check.reason}")
            return
        self.stdout.write(f"Drift check {check.id}, {sides}, features: {check.features}")
        self.stdout.write(f"  verdict: {check.verdict}")
        for reason in filter(None, check.reason.split("; ")):
            self.stdout.write(f"  - {reason}")
        for text in (check.report or {}).get("most_b_texts", [])[:3]:
            self.stdout.write(f"  most like {check.side_b}: {text[:100]!r}")
