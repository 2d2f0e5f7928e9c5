from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.errors import WorkbenchError
from workbench.projects import kinds
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Play N annotators against the real Label Studio: each takes tasks from the project's "
        "queue and answers from the items' gold labels with the given error rate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("--annotators", type=int, default=3)
        parser.add_argument(
            "--error-rate",
            default="0.1",
            help="one rate for all, or a comma-separated rate per annotator (e.g. 0,0,0.4)",
        )
        parser.add_argument(
            "--first-shown-rate",
            default="",
            help="preference only: pick Response 1 with this probability whatever it says (position "
            "bias); one rate for all or one per annotator; unset: honest",
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="per annotator")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            rates = [float(r) for r in str(options["error_rate"]).split(",")]
        except ValueError as exc:
            raise CommandError(
                f"--error-rate takes numbers separated by commas; got '{options['error_rate']}'."
            ) from exc
        firsts = None
        if options["first_shown_rate"]:
            if not kinds.spec_of(project.kind).sided:
                raise CommandError(
                    f"--first-shown-rate is for preference projects; '{project.name}' is {project.kind}."
                )
            try:
                firsts = [float(r) for r in str(options["first_shown_rate"]).split(",")]
            except ValueError as exc:
                given = options["first_shown_rate"]
                raise CommandError(
                    f"--first-shown-rate takes numbers separated by commas; got '{given}'."
                ) from exc
        if int(options["annotators"]) < 1:  # type: ignore[call-overload]
            raise CommandError(f"--annotators must be 1 or more; got {options['annotators']}.")
        if options["max_tasks"] is not None and int(options["max_tasks"]) < 0:  # type: ignore[call-overload]
            raise CommandError(f"--max-tasks must be 0 or more; got {options['max_tasks']}.")
        try:
            annotators = simulated_annotators(int(options["annotators"]), rates, firsts)  # type: ignore[call-overload]
            report = simulate(
                project=project,
                annotators=annotators,
                max_tasks_per_annotator=options["max_tasks"],  # type: ignore[arg-type]
                seed=int(options["seed"]),  # type: ignore[call-overload]
            )
        except (ValueError, WorkbenchError) as exc:
            raise CommandError(str(exc)) from exc
        for annotator in annotators:
            done, wrong = report.submitted[annotator.email], report.wrong[annotator.email]
            self.stdout.write(f"{annotator.email}: {done} annotations, {wrong} deliberately wrong")
        self.stdout.write(self.style.SUCCESS(f"{report.total} annotations submitted."))
