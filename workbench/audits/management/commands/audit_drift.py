import dataclasses
import json

from django.core.management.base import BaseCommand, CommandError

from workbench.audits.drift_files import drift_between_files
from workbench.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Drift check between two item files (CSV or JSONL, .gz allowed; no database): classifier "
        "two-sample test on hashed TF-IDF features, text length, identity-group rates, labels; "
        "prints the verdict."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file_a", help="the reference side (e.g. the latest release's items)")
        parser.add_argument("file_b", help="the new side (e.g. an import batch)")
        parser.add_argument("--text-column", default="text", help="column holding the text (default: text)")
        parser.add_argument("--label-column", default=None, help="column holding the label (optional)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the cross-validation and bootstrap")
        parser.add_argument("--permutations", type=int, default=0, help="permutation-null refits (slow)")
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            report, a, b, values = drift_between_files(
                options["file_a"],
                options["file_b"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                seed=options["seed"],
                n_permutations=options["permutations"],
            )
        except (ValidationFailed, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            body = dataclasses.asdict(report)
            body["label_values"] = list(values)
            self.stdout.write(json.dumps(body, indent=1, sort_keys=True, default=str))
            return
        c = report.classifier
        interval = f" [{c.interval.low:.3f}, {c.interval.high:.3f}]" if c.interval else ""
        self.stdout.write(f"{a.path}: {c.n_a} items; {b.path}: {c.n_b} items")
        self.stdout.write(f"verdict: {report.verdict}")
        for reason in report.reasons:
            self.stdout.write(f"  - {reason}")
        self.stdout.write(f"classifier AUC {c.auc:.3f}{interval}, p {c.p_value:.3g} ({c.null})")
        if report.length:
            self.stdout.write(
                f"length KS {report.length.ks_statistic:.3f} (p {report.length.p_value:.3g}), "
                f"median {report.length.median_a:g} -> {report.length.median_b:g} characters"
            )
        if report.labels:
            shares = ", ".join(
                f"{values[k]} {pa:.3f} -> {pb:.3f}"
                for k, pa, pb in zip(
                    report.labels.classes, report.labels.prevalence_a, report.labels.prevalence_b, strict=True
                )
            )
            self.stdout.write(f"labels: {shares} (chi-square p {report.labels.p_value:.3g})")
        th = report.thresholds
        self.stdout.write(
            f"thresholds: alpha {th.alpha}, classifier AUC >= {th.classifier_auc}, "
            f"length KS >= {th.length_ks}, "
            f"group rate change >= {th.group_rate_diff}, label share change >= {th.label_prevalence_diff}"
        )
        for side, f, positions in (("A", a, c.most_a[:3]), ("B", b, c.most_b[:3])):
            for p in positions:
                self.stdout.write(f"most {side}-like: {f.texts[p][:100]!r}")
