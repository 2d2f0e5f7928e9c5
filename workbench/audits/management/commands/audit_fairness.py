from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.audits.services.fairness import fairness_audit_run
from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id
from workbench.rounds.models import Round


def _cell(metric: dict[str, object]) -> str:
    if metric["too_few"]:
        return "too few"
    value, low, high = metric["value"], metric["low"], metric["high"]
    return f"{value:.3f}" + (f" [{low:.3f}, {high:.3f}]" if low is not None else "")


class Command(BaseCommand):
    help = (
        "Fairness audit of a round's model on its validation slice per identity group (subgroup, BPSN, "
        "BNSP AUC, FPR/FNR at the round's threshold, bootstrap intervals) and its model card."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project name or id")
        parser.add_argument("--round", type=int, default=None, help="round number (default: the newest done)")
        parser.add_argument("--card", action="store_true", help="print the model card (Markdown)")

    def handle(self, *args: object, **options: object) -> None:
        project = project_by_name_or_id(str(options["project"]))
        rounds = Round.objects.filter(project=project)
        number = options["round"]
        if number is not None and not isinstance(number, int):
            raise CommandError("--round must be a round number.")
        round_ = (
            rounds.filter(number=number).first()
            if number is not None
            else rounds.filter(status=Round.Status.DONE).order_by("-number").first()
        )
        if round_ is None:
            raise CommandError(f"Project '{project.name}' has no round {number or '(done)'}.")
        try:
            audit = fairness_audit_run(round_=round_)
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        if options["card"]:
            self.stdout.write(audit.model_card)
            return
        report = audit.report
        self.stdout.write(
            f"round {round_.number}: {report['n_items']} validation items, "
            f"threshold {report['threshold']:.3f}; "
            f"overall AUC {_cell(report['overall_auc'])}, final bias metric {_cell(report['final_metric'])}"
        )
        for row in report["groups"]:
            self.stdout.write(
                f"  {row['group']} ({row['n_items']} items): subgroup {_cell(row['subgroup_auc'])}, "
                f"BPSN {_cell(row['bpsn_auc'])}, BNSP {_cell(row['bnsp_auc'])}, "
                f"FPR {_cell(row['false_positive_rate'])}, FNR {_cell(row['false_negative_rate'])}"
            )
