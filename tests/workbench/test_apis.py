"""API tests: status codes, the error shape, and ownership (one user who may, one who may not)."""

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import api_client
from workbench.accounts.models import Account, Role
from workbench.annotations.apis import SECRET_HEADER
from workbench.annotations.models import WebhookEvent
from workbench.projects.models import Item

pytestmark = pytest.mark.django_db


def test_requests_without_a_token_are_refused() -> None:
    response = APIClient().get("/api/projects/")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "code", "extra"}


def test_an_ml_engineer_creates_a_project_and_an_annotator_may_not(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    body = {"name": "Toxicity round 1", "kind": "toxicity_binary", "annotators_per_item": 3}
    annotator = api_client(factories.user(Role.ANNOTATOR))
    refused = annotator.post("/api/projects/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"

    created = api_client(factories.user(Role.ML_ENGINEER)).post("/api/projects/", body, format="json")
    assert created.status_code == 201
    assert created.json()["annotators_per_item"] == 3
    assert created.json()["ls_project_id"] in fake_gateway.projects


def test_invalid_project_input_names_the_field(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    response = api_client(factories.user()).post(
        "/api/projects/", {"name": "x", "kind": "sentiment"}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()["extra"]["fields"]


def test_users_see_only_projects_they_belong_to(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = factories.user(), factories.user()
    project = factories.project(owner=owner)
    assert [p["id"] for p in api_client(owner).get("/api/projects/").json()] == [project.id]
    assert api_client(stranger).get("/api/projects/").json() == []
    assert api_client(stranger).get(f"/api/projects/{project.id}/").status_code == 404
    assert api_client(stranger).get(f"/api/projects/{project.id}/items/").status_code == 404
    assert api_client(stranger).get(f"/api/projects/{project.id}/annotations/").status_code == 404


def test_an_annotator_member_can_read_but_not_import(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner, annotator = factories.user(), factories.user(Role.ANNOTATOR)
    project = factories.project(owner=owner)
    api_client(owner).post(f"/api/projects/{project.id}/members/", {"user_id": annotator.id}, format="json")
    client = api_client(annotator)
    assert client.get(f"/api/projects/{project.id}/").status_code == 200
    refused = client.post(
        f"/api/projects/{project.id}/items/import/", {"items": [{"text": "x"}]}, format="json"
    )
    assert refused.status_code == 403
    assert Item.objects.count() == 0


def test_a_file_import_reports_the_bad_row_and_imports_nothing(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    owner = factories.user()
    project = factories.project(owner=owner)
    upload = SimpleUploadedFile("pool.csv", b"text,label\nok,toxic\n,toxic\n")
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 400
    assert response.json()["extra"]["errors"][0] == {
        "file": "pool.csv",
        "row": 2,
        "field": "text",
        "message": "empty text",
    }
    assert Item.objects.count() == 0


def test_import_with_a_column_mapping_then_push_and_list(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    owner = factories.user()
    project = factories.project(owner=owner)
    client = api_client(owner)
    upload = SimpleUploadedFile("jigsaw.csv", b"id,comment_text,toxic\na,first,0\nb,second,1\n")
    imported = client.post(
        f"/api/projects/{project.id}/items/import/",
        {"file": upload, "columns": '{"text": "comment_text", "external_id": "id"}'},
    )
    assert imported.status_code == 201, imported.json()
    assert imported.json()["created"] == 2
    assert client.post(f"/api/projects/{project.id}/items/push/", {}, format="json").json() == {"pushed": 2}
    items = client.get(f"/api/projects/{project.id}/items/").json()
    assert [(i["external_id"], i["gold"]) for i in items["results"]] == [("a", "non-toxic"), ("b", "toxic")]
    assert all(i["ls_task_id"] for i in items["results"])


def test_the_webhook_refuses_calls_without_the_secret(settings) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    payload = {"action": "ANNOTATION_CREATED", "project": {"id": 1}}
    assert client.post("/webhooks/label-studio/", payload, format="json").status_code == 403
    wrong = client.post("/webhooks/label-studio/", payload, format="json", headers={SECRET_HEADER: "guess"})
    assert wrong.status_code == 403
    assert WebhookEvent.objects.count() == 0
    right = client.post(
        "/webhooks/label-studio/", payload, format="json", headers={SECRET_HEADER: settings.WEBHOOK_SECRET}
    )
    assert right.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_only_admins_add_annotators_and_get_their_login(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    admin, engineer = factories.user(Role.ADMIN), factories.user(Role.ML_ENGINEER)
    project = factories.project(owner=engineer)
    body = {"email": "ann@example.test", "project_ids": [project.id]}
    assert api_client(engineer).post("/api/annotators/", body, format="json").status_code == 403
    response = api_client(admin).post("/api/annotators/", body, format="json")
    assert response.status_code == 201
    login = response.json()
    assert login["login_email"] == "ann@example.test" and login["password"]
    assert login["label_studio_url"] == "http://label-studio.test"
    account = Account.objects.get(user__email="ann@example.test")
    assert account.role == Role.ANNOTATOR and account.ls_user_id is not None
    assert fake_gateway.user_token(email="ann@example.test", password=login["password"])
    assert api_client(account.user).get(f"/api/projects/{project.id}/").status_code == 200


def test_the_openapi_schema_documents_the_api() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/projects/{project_id}/items/import/" in paths
    assert "/api/projects/{project_id}/annotations/" in paths
