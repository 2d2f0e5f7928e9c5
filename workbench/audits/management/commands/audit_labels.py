from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.audits.services.labels import label_audit_run
from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = (
        "Label-side audit of a project's counted answers per identity group: toxic prevalence, "
        "Krippendorff's alpha, and annotators flagged for calling one group's mentions toxic."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        try:
            audit = label_audit_run(project=project)
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        report = audit.report
        self.stdout.write(f"{audit.n_items} items with counted answers; {audit.n_flagged} tests flagged.")
        for row in report["groups"]:
            alpha, share = row["alpha"].get("value"), row["rating_prevalence"]
            self.stdout.write(
                f"  {row['group']}: {row['n_items']} items, "
                f"toxic ratings {'none' if share is None else f'{share:.3f}'}, "
                f"alpha {'too few' if alpha is None else f'{alpha:.3f}'}"
            )
        for test in report["flagged"]:
            self.stdout.write(
                f"  FLAGGED {test['annotator']} on {test['group']} ({test['direction']}): "
                f"{test['k_group']}/{test['n_group']} vs {test['k_other']}/{test['n_other']}, "
                f"q {test['q_value']:.2g}"
            )
