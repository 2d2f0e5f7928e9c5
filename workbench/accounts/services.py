from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, User
from django.db import transaction
from rest_framework.authtoken.models import Token

from workbench.accounts.models import Account, Role
from workbench.errors import Conflict, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.models import Project, ProjectMembership


@dataclass(frozen=True)
class AnnotatorCreated:
    user: User
    label_studio_url: str
    login_email: str
    password: str  # shown once, to hand to the annotator; not stored by the workbench


@transaction.atomic
def user_create(*, email: str, role: Role, password: str | None = None) -> User:
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
        Account.objects.filter(user_id=user.pk).update(ls_user_id=ls_user.id)
        for project in projects:
            ProjectMembership.objects.get_or_create(project=project, user_id=user.pk)
    url, _ = connection.credentials()
    return AnnotatorCreated(user=user, label_studio_url=url, login_email=email, password=password)


@dataclass(frozen=True)
class AccountCreated:
    """A new user of any role and their API token; annotators also get their Label Studio login."""

    user: AbstractUser
    role: Role
    token: str  # shown once, to hand over
    annotator: AnnotatorCreated | None


def account_create(
    *,
    email: str,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    projects: Sequence[Project] = (),
    password: str | None = None,
) -> AccountCreated:
    """A user of any role, member of ``projects``. Annotators get their Label Studio account
    (``annotator_create``); admins and ML engineers need none: the workbench talks to Label
    Studio for them. ``password`` (for the workbench's sign-in pages) is unusable if not given."""
    annotator = None
    if role is Role.ANNOTATOR:
        annotator = annotator_create(
            email=email, first_name=first_name, last_name=last_name, projects=projects
        )
        user = annotator.user
    else:
        with transaction.atomic():
            user = user_create(email=email, role=role, password=password)
            user.first_name, user.last_name = first_name, last_name
            user.save(update_fields=["first_name", "last_name"])
            for project in projects:
                ProjectMembership.objects.get_or_create(project=project, user_id=user.pk)
    return AccountCreated(user=user, role=role, token=token_get(user=user), annotator=annotator)


def token_get(*, user: AbstractBaseUser) -> str:
    """The user's API token (one is made with every user; made here for older ones)."""
    token, _ = Token.objects.get_or_create(user_id=user.pk)
    return str(token.key)


@transaction.atomic
def token_rotate(*, user: AbstractBaseUser) -> str:
    """A new API token for ``user``; the old one stops working at once."""
    Token.objects.filter(user_id=user.pk).delete()
    return str(Token.objects.create(user_id=user.pk).key)


def simulated_annotator_password(email: str) -> str:
    """Simulated annotators' passwords are derived from SECRET_KEY, so a rerun of the simulation
    can log in again without the workbench storing any Label Studio password."""
    digest = hmac.new(settings.SECRET_KEY.encode(), email.encode(), hashlib.sha256).hexdigest()
    return f"Sim-{digest[:24]}"
