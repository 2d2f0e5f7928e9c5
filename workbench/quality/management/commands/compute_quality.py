from django.core.management.base import BaseCommand

from workbench.projects.management.arguments import project_by_name_or_id
from workbench.quality.services import quality_compute


class Command(BaseCommand):
    help = "Compute a project's label quality now (agreement, consensus, annotators, gold, label issues)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("project", help="project name or id")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        project = project_by_name_or_id(str(options["project"]))
        run = quality_compute(project=project, trigger="command")
        summary = run.summary
        stats = summary.get("statistics", {})
        alpha = stats.get("krippendorff_alpha", {}).get("value")
        self.stdout.write(
            f"run {run.id}: {run.status}; {summary.get('n_items', 0)} items, alpha={alpha}, "
            f"issues={summary.get('issues', {}).get('n_flagged')}, "
            f"consensus changes={summary.get('consensus_changes')}"
        )
