"""Accounts and tokens: create_user for every role, admins create users over the API (others may
not), every user sees and replaces only their own token, and the old one stops working."""

from __future__ import annotations

import re
import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.factories import api_client
from workbench.accounts.models import Account, Role
from workbench.accounts.services import token_get
from workbench.labelstudio import connection
from workbench.projects.models import ProjectMembership

pytestmark = pytest.mark.django_db
User = get_user_model()


def create_user(*args: str) -> str:
    out = StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


def printed_token(output: str) -> str:
    match = re.search(r"API token \(shown once[^)]*\): (\w+)", output)
    assert match, output
    return match.group(1)


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_create_user_makes_an_ml_engineer_member_of_projects_and_prints_a_working_token(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    first, second = factories.project(), factories.project()
    output = create_user(
        "ml@example.test", "--role", "ml_engineer", "--project", first.name, "--project", str(second.id)
    )
    user = User.objects.get(username="ml@example.test")
    assert Account.objects.get(user=user).role == Role.ML_ENGINEER
    assert set(ProjectMembership.objects.filter(user=user).values_list("project_id", flat=True)) == {
        first.id,
        second.id,
    }
    token = printed_token(output)
    me = token_client(token).get("/api/me/")
    assert me.json() == {"id": user.id, "email": "ml@example.test", "role": "ml_engineer"}
    assert token_client(token).get(f"/api/projects/{first.id}/").status_code == 200
    assert "Label Studio login" not in output


def test_create_user_gives_an_annotator_a_label_studio_login(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    output = create_user("ann@example.test", "--role", "annotator", "--project", project.name)
    login = re.search(r"Label Studio login \(shown once\): (\S+) as (\S+) / (\S+)", output)
    assert login, output
    url, email, password = login.groups()
    assert (url, email) == ("http://label-studio.test", "ann@example.test")
    assert fake_gateway.user_token(email=email, password=password)  # Label Studio accepts the login
    account = Account.objects.get(user__username="ann@example.test")
    assert account.role == Role.ANNOTATOR and account.ls_user_id == fake_gateway.users[email].user.id
    assert token_client(printed_token(output)).get("/api/me/").json()["role"] == "annotator"


def test_create_user_makes_an_admin_who_may_create_users() -> None:
    token = printed_token(create_user("root@example.test", "--role", "admin"))
    created = token_client(token).post(
        "/api/users/", {"email": "x@example.test", "role": "ml_engineer"}, format="json"
    )
    assert created.status_code == 201


def test_create_user_refuses_a_taken_email_and_an_unknown_project_and_creates_nothing() -> None:
    create_user("taken@example.test", "--role", "admin")
    with pytest.raises(CommandError, match="already exists"):
        create_user("taken@example.test", "--role", "ml_engineer")
    with pytest.raises(CommandError, match="No project named or numbered 'nope'"):
        create_user("new@example.test", "--role", "ml_engineer", "--project", "nope")
    assert not User.objects.filter(username="new@example.test").exists()
    with pytest.raises(CommandError, match="invalid choice: 'owner'"):
        create_user("new@example.test", "--role", "owner")


@pytest.mark.parametrize("role", ["admin", "ml_engineer", "annotator"])
def test_an_admin_creates_a_user_of_every_role_over_the_api(fake_gateway, role: str) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    admin = api_client(factories.user(Role.ADMIN))
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.test"
    response = admin.post(
        "/api/users/", {"email": email, "role": role, "project_ids": [project.id]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["role"]) == (email, role)
    user = User.objects.get(id=body["user_id"])
    assert Account.objects.get(user=user).role == role
    assert ProjectMembership.objects.filter(user=user, project=project).exists()
    assert token_client(body["token"]).get("/api/me/").json()["role"] == role
    if role == "annotator":
        login = body["label_studio"]
        assert (login["url"], login["email"]) == ("http://label-studio.test", email)
        assert fake_gateway.user_token(email=email, password=login["password"])
    else:
        assert body["label_studio"] is None


@pytest.mark.parametrize("role", [Role.ML_ENGINEER, Role.ANNOTATOR])
def test_ml_engineers_and_annotators_may_not_create_users(fake_gateway, role: Role) -> None:  # type: ignore[no-untyped-def]
    client = api_client(factories.user(role))
    for new_role in ("admin", "ml_engineer", "annotator"):
        response = client.post(
            "/api/users/", {"email": f"{new_role}@example.test", "role": new_role}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert not User.objects.filter(email__in=["admin@example.test", "ml_engineer@example.test"]).exists()
    assert fake_gateway.users == {}
    assert (
        APIClient()
        .post("/api/users/", {"email": "a@example.test", "role": "admin"}, format="json")
        .status_code
        == 401
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.test", "role": "owner"}, "role"),
        ({"email": "not-an-email", "role": "admin"}, "email"),
        ({"email": "a@example.test", "role": "admin", "project_ids": [1e20]}, "project_ids"),
        ({"email": "a@example.test", "role": "admin", "project_ids": [-1]}, "project_ids"),
    ],
)
def test_bad_user_input_is_a_400_that_names_the_field(body: dict[str, object], field: str) -> None:
    response = api_client(factories.user(Role.ADMIN)).post("/api/users/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not User.objects.filter(username="a@example.test").exists()


def test_an_unknown_project_is_a_400_and_creates_nobody() -> None:
    response = api_client(factories.user(Role.ADMIN)).post(
        "/api/users/",
        {"email": "a@example.test", "role": "ml_engineer", "project_ids": [987654]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["extra"] == {"project_ids": [987654]}
    assert not User.objects.filter(username="a@example.test").exists()


@pytest.mark.parametrize("role", list(Role))
def test_a_user_sees_and_rotates_their_own_token_and_the_old_one_stops_working(role: Role) -> None:
    user, other = factories.user(role), factories.user(role)
    old, others = token_get(user=user), token_get(user=other)
    assert token_client(old).get("/api/me/token/").json() == {"token": old}

    rotated = token_client(old).post("/api/me/token/rotate/")
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != old
    assert token_client(old).get("/api/me/").status_code == 401
    assert token_client(new).get("/api/me/").json()["id"] == user.id
    assert token_client(new).get("/api/me/token/").json() == {"token": new}
    # Nobody else's token changed.
    assert Token.objects.get(user=other).key == others
    assert token_client(others).get("/api/me/").status_code == 200


def test_token_endpoints_need_a_signed_in_user() -> None:
    assert APIClient().get("/api/me/token/").status_code == 401
    assert APIClient().post("/api/me/token/rotate/").status_code == 401


def test_the_token_page_shows_the_signed_in_users_token_and_replaces_it() -> None:
    from workbench.accounts.services import user_create

    user = user_create(email="page@example.test", role=Role.ML_ENGINEER, password="page-pass-123")
    other = factories.user(Role.ML_ENGINEER)
    others = token_get(user=other)
    anonymous = Client().get("/account/token/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(
        "/quality/login/?next=/account/token/"
    )

    client = Client()
    signed_in = client.post(
        "/quality/login/",
        {"username": "page@example.test", "password": "page-pass-123", "next": "/account/token/"},
    )
    assert signed_in["Location"] == "/account/token/"
    old = token_get(user=user)
    page = client.get("/account/token/")
    assert page.status_code == 200
    assert f'<code id="token">{old}</code>' in page.content.decode()

    rotated = client.post("/account/token/", follow=True)
    new = token_get(user=user)
    assert new != old
    assert f'<code id="token">{new}</code>' in rotated.content.decode()
    assert "the old one no longer works" in rotated.content.decode()
    assert token_client(old).get("/api/me/").status_code == 401
    assert token_get(user=other) == others


@pytest.mark.label_studio
def test_create_user_gives_an_annotator_a_working_real_label_studio_login(real_gateway) -> None:  # type: ignore[no-untyped-def]
    email = f"cli-{uuid.uuid4().hex[:8]}@example.test"
    output = create_user(email, "--role", "annotator")
    login = re.search(r"Label Studio login \(shown once\): (\S+) as (\S+) / (\S+)", output)
    assert login, output
    url, login_email, password = login.groups()
    assert url == connection.credentials()[0]
    assert real_gateway.user_token(email=login_email, password=password)


@pytest.mark.parametrize("ids", [[1e20], [0], ["x"]])
def test_annotator_creation_refuses_project_ids_out_of_range_with_a_400(
    fake_gateway, ids: list[object]
) -> None:  # type: ignore[no-untyped-def]
    response = api_client(factories.user(Role.ADMIN)).post(
        "/api/annotators/", {"email": "a@example.test", "project_ids": ids}, format="json"
    )
    assert response.status_code == 400
    assert "project_ids" in response.json()["extra"]["fields"]
    assert fake_gateway.users == {}
