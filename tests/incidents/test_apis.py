"""The feedback API: who may import, read and queue (admins and ML engineers of the project; an
annotator member 403, someone else's project 404), 400s that name the field, the report as JSON
and as Markdown."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.fakes import FakeGateway
from tests.incidents.helpers import known_jsonl
from workbench.accounts.models import Role
from workbench.guidelines.services import guideline_publish
from workbench.incidents.models import FeedbackBatch
from workbench.projects.models import Item, Project
from workbench.projects.services import project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    return factories.project()


def upload(content: bytes = b"", name: str = "incident.jsonl") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or known_jsonl(), content_type="application/octet-stream")


def test_an_engineer_member_imports_reads_the_report_and_queues_the_sample(project: Project) -> None:
    engineer = factories.user(Role.ML_ENGINEER)
    project_member_add(project=project, user=engineer)
    client = factories.api_client(engineer)
    url = f"/api/projects/{project.id}/feedback/"
    created = client.post(
        url, {"file": upload(), "model_version": "m-9", "note": "spike"}, format="multipart"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["rows"], body["created_count"], body["model_version"], body["campaign_id"]) == (
        10,
        10,
        "m-9",
        None,
    )
    assert [b["id"] for b in client.get(url).json()] == [body["id"]]

    report = client.get(f"{url}{body['id']}/report/")
    assert report.status_code == 200 and report["Content-Type"].startswith("application/json")
    assert report.json()["size"]["by_report"]["user_flagged_false_positive"] == 4
    markdown = client.get(f"{url}{body['id']}/report/?format=markdown")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    assert markdown.content.decode().startswith(f"# Incident triage: feedback batch {body['id']}")

    guideline_publish(project=project, text="v1", note="first", author=None)
    queued = client.post(f"{url}{body['id']}/sample/", {"size": 4, "seed": 2}, format="json")
    assert queued.status_code == 201, queued.json()
    assert queued.json()["campaign_id"] is not None and queued.json()["sample"]["size"] == 4
    again = client.post(f"{url}{body['id']}/sample/", {"size": 4}, format="json")
    assert again.status_code == 409 and again.json()["extra"]["campaign_id"] == queued.json()["campaign_id"]
    counts = client.get(f"{url}{body['id']}/report/").json()["campaign"]["counts"]
    assert counts == {"queued": 4, "changed": 0, "unchanged": 0, "labeled": 0, "done": 0, "total": 4}


def test_annotators_and_strangers_are_kept_out(project: Project) -> None:
    admin = factories.api_client(factories.user(Role.ADMIN))
    url = f"/api/projects/{project.id}/feedback/"
    batch_id = admin.post(url, {"file": upload()}, format="multipart").json()["id"]
    annotator, stranger = factories.user(Role.ANNOTATOR), factories.user(Role.ML_ENGINEER)
    project_member_add(project=project, user=annotator)
    for user, code in ((annotator, 403), (stranger, 404)):
        client = factories.api_client(user)
        assert client.get(url).status_code == code
        assert client.post(url, {"file": upload()}, format="multipart").status_code == code
        assert client.get(f"{url}{batch_id}/report/").status_code == code
        refused = client.get(f"{url}{batch_id}/report/?format=markdown")
        assert refused.status_code == code and refused["Content-Type"] == "application/json"
        assert "message" in refused.json()
        assert client.post(f"{url}{batch_id}/sample/", {}, format="json").status_code == code
    assert admin.get(f"{url}999999/report/").status_code == 404
    assert FeedbackBatch.objects.filter(project=project).count() == 1


def test_bad_requests_are_400s_naming_the_field_and_write_nothing(project: Project) -> None:
    client = factories.api_client(factories.user(Role.ADMIN))
    url = f"/api/projects/{project.id}/feedback/"
    items = Item.objects.count()

    missing = client.post(url, {"model_version": "m"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["extra"]["fields"]

    bad_row = client.post(url, {"file": upload(b"text,score,report\nok,0.4,other\nfine,7,other\n", "f.csv")})
    assert bad_row.status_code == 400
    assert bad_row.json()["message"].startswith("f.csv: row 2, field 'score': must be a number in [0, 1]")
    assert bad_row.json()["extra"]["errors"][0] == {
        "file": "f.csv",
        "row": 2,
        "field": "score",
        "message": "must be a number in [0, 1], got '7'",
    }

    release = client.post(url, {"file": upload(), "release": "0"}, format="multipart")
    assert release.status_code == 400 and "release" in release.json()["extra"]["fields"]
    unknown_release = client.post(url, {"file": upload(), "release": "4"}, format="multipart")
    assert unknown_release.status_code == 400 and unknown_release.json()["extra"]["fields"] == {
        "release": ["no such published release"]
    }
    columns = client.post(url, {"file": upload(), "columns": "{nope"}, format="multipart")
    assert columns.status_code == 400 and "columns" in columns.json()["extra"]["fields"]
    assert Item.objects.count() == items and not FeedbackBatch.objects.exists()

    batch_id = client.post(url, {"file": upload()}, format="multipart").json()["id"]
    size = client.post(f"{url}{batch_id}/sample/", {"size": 0}, format="json")
    assert size.status_code == 400 and "size" in size.json()["extra"]["fields"]
    bins = client.post(f"{url}{batch_id}/sample/", {"bins": "many"}, format="json")
    assert bins.status_code == 400 and "bins" in bins.json()["extra"]["fields"]
    no_guideline = client.post(f"{url}{batch_id}/sample/", {"size": 2}, format="json")
    assert no_guideline.status_code == 400 and "no published guideline" in no_guideline.json()["message"]


def test_the_pages_follow_the_rounds_pages_access_rule(project: Project, client) -> None:  # type: ignore[no-untyped-def]
    from workbench.incidents.services import feedback_import

    batch = feedback_import(project=project, source="f.jsonl", content=known_jsonl())
    pages = [f"/incidents/projects/{project.id}/", f"/incidents/projects/{project.id}/feedback/{batch.id}/"]
    engineer, annotator, stranger = (
        factories.user(Role.ML_ENGINEER),
        factories.user(Role.ANNOTATOR),
        factories.user(Role.ML_ENGINEER),
    )
    for member in (engineer, annotator):
        project_member_add(project=project, user=member)
    for user, code in ((engineer, 200), (annotator, 403), (stranger, 404)):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == code, (url, user.email)
    client.force_login(engineer)
    assert client.get(f"/incidents/projects/{project.id}/feedback/999999/").status_code == 404
