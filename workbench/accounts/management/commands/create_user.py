"""Create a user of any role and print their API token once (annotators: their Label Studio
login too)."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from workbench.accounts.models import Role
from workbench.accounts.services import account_create
from workbench.errors import WorkbenchError
from workbench.projects.management.arguments import project_by_name_or_id


class Command(BaseCommand):
    help = "Create a user (admin, ml_engineer or annotator) and print their API token once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            metavar="NAME",
            help="a project (name or id); repeatable",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: object, **options: object) -> None:
        email = str(options["email"])
        projects = [project_by_name_or_id(str(name)) for name in options["project"]]  # type: ignore[attr-defined]
        try:
            created = account_create(
                email=email,
                role=Role(str(options["role"])),
                first_name=str(options["first_name"]),
                last_name=str(options["last_name"]),
                projects=projects,
            )
        except WorkbenchError as exc:
            raise CommandError(exc.message) from exc
        lines = [
            f"Created {created.role.label} {email} (user {created.user.pk})"
            + (f", member of {', '.join(p.name for p in projects)}" if projects else "")
            + ".",
            f"API token (shown once; the user can see and replace it at /account/token/): {created.token}",
        ]
        if created.annotator is not None:
            lines.append(
                f"Label Studio login (shown once): {created.annotator.label_studio_url} "
                f"as {created.annotator.login_email} / {created.annotator.password}"
            )
        self.stdout.write("\n".join(lines))
