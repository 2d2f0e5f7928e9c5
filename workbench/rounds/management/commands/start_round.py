from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id
from workbench.rounds.models import Round
from workbench.rounds.services import round_start


class Command(BaseCommand):
    help = (
        "Start an active-learning round: train on the labels so far, score the pool and put the "
        "selected batch at the head of the project's Label Studio queue (runs as a Celery task)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("--strategy", help="strategy name (default: the project's round settings)")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--buffer-size", type=int, default=None)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--cost-fp", type=float, default=None, help="cost of a false positive")
        parser.add_argument("--cost-fn", type=float, default=None, help="cost of a false negative")
        parser.add_argument(
            "--max-annotators-per-item",
            type=int,
            default=None,
            help="split_votes: the cap on annotators per item (default: the round settings)",
        )
        parser.add_argument(
            "--gold-share",
            type=float,
            default=None,
            help="split_votes: share of the batch given to gold items",
        )

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        names = ("cost_fp", "cost_fn", "max_annotators_per_item", "gold_share")
        parameters = {k: options[k] for k in names if options[k] is not None}
        try:
            round_ = round_start(
                project=project,
                trigger=Round.Trigger.COMMAND,
                strategy=options["strategy"],  # type: ignore[arg-type]
                batch_size=options["batch_size"],  # type: ignore[arg-type]
                buffer_size=options["buffer_size"],  # type: ignore[arg-type]
                seed=options["seed"],  # type: ignore[arg-type]
                parameters=parameters,
            )
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        round_.refresh_from_db()
        if round_.status == Round.Status.FAILED:
            raise CommandError(f"Round {round_.number} failed: {round_.error}")
        if round_.status != Round.Status.DONE:
            self.stdout.write(f"Round {round_.number} queued ({round_.status}); a Celery worker runs it.")
            return
        self.stdout.write(
            f"Round {round_.number} done: strategy {round_.strategy}, seed {round_.seed}, "
            f"trained on {round_.training_size}, pool {round_.pool_size}, "
            f"{round_.parameters.get('k')} queued first, {round_.pushed_count} pushed, "
            f"{round_.timings.get('total', 0):.2f} s"
        )
        if round_.metrics:
            shown = ", ".join(f"{k} {v:.3f}" for k, v in round_.metrics.items() if v is not None)
            self.stdout.write(f"validation ({round_.validation_size} items): {shown}")
        if round_.threshold:
            self.stdout.write(f"threshold: {round_.threshold}")
        self.stdout.write(self.style.SUCCESS(f"Label Studio serves model version {round_.model_version}."))
