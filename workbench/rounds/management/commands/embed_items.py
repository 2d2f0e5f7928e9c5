from django.core.management.base import BaseCommand, CommandParser

from workbench.projects.management.arguments import project_by_name_or_id
from workbench.rounds.embedding_jobs import embedding_enqueue_missing
from workbench.rounds.selectors import embedding_progress


class Command(BaseCommand):
    help = (
        "(Re)enqueue embedding of a project's items the embedding cache lacks, in chunks of "
        "EMBEDDING_CHUNK_SIZE (one Celery task each), and restart its progress counts for the "
        "current featurizer. --status only prints the counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("--status", action="store_true", help="print the progress, enqueue nothing")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        if options["status"]:
            progress = embedding_progress(project)
        else:
            progress = embedding_enqueue_missing(project=project)
        self.stdout.write(
            f"{project.name}: embedded {progress.embedded:,} of {progress.total:,} items "
            f"({progress.chunks_done:,} of {progress.chunks:,} chunks done, model {progress.model_id or '-'})"
        )
