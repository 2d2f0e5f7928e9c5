"""Idempotent demo state: an admin, a toxicity project with the shipped demo items pushed to
Label Studio, and one annotator account. Run by bin/demo; safe to run again."""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workbench.accounts.models import Account, Role
from workbench.accounts.services import account_create, annotator_create, token_get
from workbench.labelstudio import connection
from workbench.projects.models import Project
from workbench.projects.services import items_import, items_push, project_create

DEMO_PROJECT = "Demo: toxicity (binary)"
DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "toxicity_demo.csv"
ADMIN_EMAIL = "admin@workbench.local"
ANNOTATOR_EMAIL = "annotator@workbench.local"
ML_ENGINEER_EMAIL = "ml@workbench.local"


class Command(BaseCommand):
    help = "Create (or reuse) the demo project, its items in Label Studio, an admin and an annotator."

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
                annotators_per_item=1,
                created_by=admin,
                description="Shipped demo: 60 Wikipedia talk-page comments.",
            )
            report = items_import(project=project, source=DEMO_FILE.name, content=DEMO_FILE.read_bytes())
            self.stdout.write(f"Imported {report.created} demo items.")
        pushed = items_push(project=project)
        if pushed:
            self.stdout.write(f"Pushed {pushed} items to Label Studio.")

        if not User.objects.filter(username=ANNOTATOR_EMAIL).exists():
            created = annotator_create(
                email=ANNOTATOR_EMAIL, first_name="Demo", last_name="Annotator", projects=[project]
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


def _credentials_file() -> Path:
    path = Path(settings.VAR_DIR) / "demo-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
