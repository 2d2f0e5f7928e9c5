"""Idempotent demo state: an admin, a toxicity project (three annotators per item) with the
shipped demo items, a human annotator account, and the whole loop run once on it (simulated
annotators, rounds, label quality, a release; see ``demo_loop``). Run by bin/demo; safe to run
again."""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workbench.accounts.models import Account, Role
from workbench.accounts.services import account_create, annotator_create, token_get
from workbench.labelstudio import connection
from workbench.projects.management.demo_loop import ANNOTATORS_PER_ITEM, LoopState, loop_run
from workbench.projects.models import Project
from workbench.projects.services import items_import, project_create

DEMO_PROJECT = "Demo: toxicity (binary)"
DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "toxicity_demo.csv"
ADMIN_EMAIL = "admin@workbench.local"
ANNOTATOR_EMAIL = "annotator@workbench.local"
ML_ENGINEER_EMAIL = "ml@workbench.local"


class Command(BaseCommand):
    help = (
        "Create (or reuse) the demo project, an admin and an annotator, and run the loop once: "
        "simulated annotators, active-learning rounds, label quality and a release."
    )

    def handle(self, *args: object, **options: object) -> None:
        credentials = _credentials_file()
        known = json.loads(credentials.read_text()) if credentials.exists() else {}

        User = get_user_model()
        if not User.objects.filter(username=ADMIN_EMAIL).exists():
            known["admin_password"] = secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(ADMIN_EMAIL, ADMIN_EMAIL, known["admin_password"])
            Account.objects.create(user=admin, role=Role.ADMIN)
        admin = User.objects.get(username=ADMIN_EMAIL)

        project = Project.objects.filter(name=DEMO_PROJECT).first()
        if project is None:
            project = project_create(
                name=DEMO_PROJECT,
                kind="toxicity_binary",
                annotators_per_item=ANNOTATORS_PER_ITEM,
                created_by=admin,
                description="Shipped demo: 60 Wikipedia talk-page comments.",
            )
            report = items_import(project=project, source=DEMO_FILE.name, content=DEMO_FILE.read_bytes())
            self.stdout.write(f"Imported {report.created} demo items.")
        self._warn_if_made_by_an_older_demo(project)

        if not User.objects.filter(username=ANNOTATOR_EMAIL).exists():
            # The password var/ recorded, if any: Label Studio keeps the account when the
            # workbench's database is new, and only that password can claim it again.
            created = annotator_create(
                email=ANNOTATOR_EMAIL,
                first_name="Demo",
                last_name="Annotator",
                projects=[project],
                password=known.get("annotator_password"),
            )
            known["annotator_password"] = created.password
        if not User.objects.filter(username=ML_ENGINEER_EMAIL).exists():
            known["ml_engineer_password"] = secrets.token_urlsafe(12)
            account_create(
                email=ML_ENGINEER_EMAIL,
                role=Role.ML_ENGINEER,
                projects=[project],
                password=known["ml_engineer_password"],
            )
        ml_token = token_get(user=User.objects.get(username=ML_ENGINEER_EMAIL))
        credentials.write_text(json.dumps(known, indent=2))
        credentials.chmod(0o600)
        # The rounds push what the queue needs: Label Studio holds the queue, not the pool.
        loop = loop_run(project=project, admin=admin, say=self.stdout.write)

        ls_url, _ = connection.credentials()
        url, ml_password = settings.PUBLIC_URL, known.get("ml_engineer_password", "(see var/)")
        self.stdout.write(
            self.style.SUCCESS(
                "\nThe workbench is ready.\n"
                f"  Annotators label in Label Studio:  {ls_url}/projects/{project.ls_project_id}/\n"
                f"      log in as {ANNOTATOR_EMAIL} / {known.get('annotator_password', '(see var/)')}\n"
                f"  Admins open the workbench:         {settings.PUBLIC_URL}/admin/\n"
                f"      log in as {ADMIN_EMAIL} / {known.get('admin_password', '(see var/)')}\n"
                f"  REST API and its OpenAPI docs:     {settings.PUBLIC_URL}/api/docs/\n"
                f"  An ML engineer's API token:        {ml_token}\n"
                f"      (sign in as {ML_ENGINEER_EMAIL} / {ml_password} at {url}/account/token/ to see or\n"
                f"      replace it; the admin's token: {token_get(user=admin)})\n"
                "  Pull the newest release of the demo project (once one is published):\n"
                f"      .venv/bin/python -m workbench_client pull --url {url} --token {ml_token} \\\n"
                f"          --project {project.id} --version latest --format jsonl --out data/\n"
            )
        )
        self._print_loop(project, loop)

    def _warn_if_made_by_an_older_demo(self, project: Project) -> None:
        if project.annotators_per_item != ANNOTATORS_PER_ITEM:
            self.stdout.write(
                self.style.WARNING(
                    f"The demo project was made by an older demo with {project.annotators_per_item} "
                    "annotator(s) per item; agreement needs several. Delete var/ for a fresh demo."
                )
            )

    def _print_loop(self, project: Project, state: LoopState) -> None:
        """Where to look at each part of the loop (the pages sign in at /quality/login/)."""
        base = settings.PUBLIC_URL
        summary = state.quality.summary if state.quality else {}
        alpha = summary.get("statistics", {}).get("krippendorff_alpha", {}).get("value")
        last = state.rounds[-1] if state.rounds else None
        metrics = last.metrics if last else {}
        release = state.release
        version = f"{release.version}/" if release else ""
        lines = [
            f"The loop: {state.annotations} annotations so far ({ANNOTATORS_PER_ITEM} annotators per item, "
            f"simulated ones first), {len(state.rounds)} rounds, label quality, a release.",
            f"  Label quality, agreement (Krippendorff's alpha {_number(alpha)}):",
            f"      {base}/quality/projects/{project.id}/",
            f"  Rounds and the learning curve (last F1 {_number(metrics.get('f1'))}, "
            f"PR-AUC {_number(metrics.get('pr_auc'))}):",
            f"      {base}/rounds/projects/{project.id}/",
            "  Releases (datasheet, files; diffs between versions):",
            f"      {base}/releases/projects/{project.id}/{version}",
            f"      sign in to these pages at {base}/quality/login/ as {ADMIN_EMAIL}",
            f"  The queue now serves what round {last.number if last else '–'} chose; label next to the "
            f"simulated annotators in Label Studio as {ANNOTATOR_EMAIL}.",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines) + "\n"))


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _credentials_file() -> Path:
    path = Path(settings.VAR_DIR) / "demo-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
