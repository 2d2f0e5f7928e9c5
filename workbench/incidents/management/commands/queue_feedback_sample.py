from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.errors import WorkbenchError
from workbench.incidents import selectors, services
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Queue a feedback batch's sample, stratified by report type and score bin, for relabeling "
        "under the guideline in force (a relabel campaign of follow-up tasks)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("batch", type=int, help="feedback batch id")
        parser.add_argument("--size", type=int, default=services.DEFAULT_SAMPLE_SIZE, help="items to queue")
        parser.add_argument("--bins", type=int, default=services.DEFAULT_BINS, help="score bins over [0, 1]")
        parser.add_argument(
            "--seed", type=int, default=None, help="seed of the draw (stored with the sample)"
        )

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            batch = services.feedback_sample_queue(
                batch=selectors.batch_get(project=project, batch_id=int(str(options["batch"]))),
                size=int(str(options["size"])),
                bins=int(str(options["bins"])),
                seed=None if options["seed"] is None else int(str(options["seed"])),
            )
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        sample = batch.sample or {}
        self.stdout.write(
            self.style.SUCCESS(
                f"Relabel campaign {batch.campaign_id}: {sample.get('size')} item(s) queued from "
                f"{len(sample.get('strata', []))} strata (seed {sample.get('seed')})."
            )
        )
