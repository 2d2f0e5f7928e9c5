"""Idempotent demo state: an admin, a toxicity project with the shipped demo items pushed to
Label Studio, and one annotator account. Run by bin/demo; safe to run again."""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workbench.accounts.models import Account, Role
from workbench.accounts.services import annotator_create
from workbench.labelstudio import connection
from workbench.projects.models import Project
from workbench.projects.services import items_import, items_push, project_create

DEMO_PROJECT = "Demo: toxicity (binary)"
DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "toxicity_demo.csv"
ADMIN_EMAIL = "admin@workbench.local"
ANNOTATOR_EMAIL = "annotator@workbench.local"


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
        credentials.write_text(json.dumps(known, indent=2))
        credentials.chmod(0o600)

        ls_url, _ = connection.credentials()
        self.stdout.write(
            self.style.SUCCESS(
                "\nThe workbench is ready.\n"
                f"  Annotators label in Label Studio:  {ls_url}/projects/{project.ls_project_id}/\n"
                f"      log in as {ANNOTATOR_EMAIL} / {known.get('annotator_password', '(see var/)')}\n"
                f"  Admins open the workbench:         {settings.PUBLIC_URL}/admin/\n"
                f"      log in as {ADMIN_EMAIL} / {known.get('admin_password', '(see var/)')}\n"
                f"  REST API and its OpenAPI docs:     {settings.PUBLIC_URL}/api/docs/\n"
            )
        )


def _credentials_file() -> Path:
    path = Path(settings.VAR_DIR) / "demo-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
