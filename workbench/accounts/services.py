from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from workbench.accounts.models import Account, Role
from workbench.errors import Conflict, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.models import Project, ProjectMembership

User = get_user_model()


@dataclass(frozen=True)
class AnnotatorCreated:
    user: AbstractUser
    label_studio_url: str
    login_email: str
    password: str  # shown once, to hand to the annotator; not stored by the workbench


@transaction.atomic
def user_create(*, email: str, role: Role, password: str | None = None) -> AbstractUser:
    if User.objects.filter(username=email).exists():
        raise Conflict(f"A user with the email {email} already exists.")
    user = User.objects.create_user(username=email, email=email, password=password)
    Account.objects.create(user=user, role=role)
    Token.objects.create(user=user)
    return user


def annotator_create(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    projects: Sequence[Project] = (),
    password: str | None = None,
) -> AnnotatorCreated:
    """A workbench annotator with a Label Studio account that can log in and label at once."""
    password = password or secrets.token_urlsafe(12)
    if User.objects.filter(username=email).exists():
        raise Conflict(f"A user with the email {email} already exists.")
    try:
        ls_user = connection.get_gateway().create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
    except LabelStudioError as exc:
        raise upstream_error(exc, f"Label Studio refused the account for {email}") from exc
    with transaction.atomic():
        user = user_create(email=email, role=Role.ANNOTATOR)
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
        Account.objects.filter(user=user).update(ls_user_id=ls_user.id)
        for project in projects:
            ProjectMembership.objects.get_or_create(project=project, user=user)
    url, _ = connection.credentials()
    return AnnotatorCreated(user=user, label_studio_url=url, login_email=email, password=password)


def simulated_annotator_password(email: str) -> str:
    """Simulated annotators' passwords are derived from SECRET_KEY, so a rerun of the simulation
    can log in again without the workbench storing any Label Studio password."""
    digest = hmac.new(settings.SECRET_KEY.encode(), email.encode(), hashlib.sha256).hexdigest()
    return f"Sim-{digest[:24]}"
