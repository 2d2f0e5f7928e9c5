"""API tests: who may create and read releases, downloads with ETag and ranges, diffs, schema."""

from __future__ import annotations

import hashlib
import io

import pandas as pd
import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import api_client
from tests.releases.conftest import annotate
from workbench.accounts.models import Role
from workbench.projects.models import Item
from workbench.projects.services import project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(fake_gateway):  # type: ignore[no-untyped-def]
    return factories.user(Role.ML_ENGINEER)


@pytest.fixture
def project(owner):  # type: ignore[no-untyped-def]
    project = factories.project(owner=owner, annotators_per_item=2)
    factories.toxicity_items(project, 20)
    for item in Item.objects.filter(project=project):
        annotate(item, 11, item.gold)
        annotate(item, 12, item.gold)
    return project


@pytest.fixture
def published(owner, project, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(owner).post(
            f"/api/projects/{project.id}/releases/", {"tag": "v1"}, format="json"
        )
    assert response.status_code == 202, response.json()
    return response


def test_an_ml_engineer_creates_a_release_and_it_is_built(owner, project, published) -> None:  # type: ignore[no-untyped-def]
    assert published.json()["status"] == "pending"
    listed = api_client(owner).get(f"/api/projects/{project.id}/releases/").json()
    assert [(r["version"], r["tag"], r["status"], r["record_count"]) for r in listed] == [
        (1, "v1", "published", 20)
    ]
    detail = api_client(owner).get(f"/api/projects/{project.id}/releases/1/").json()
    assert detail["manifest"]["stats"]["records"] == 20
    assert detail["datasheet"].startswith("# Datasheet:")
    assert {f["path"] for f in detail["files"]} >= {"parquet/train.parquet", "csv/test.csv", "DATASHEET.md"}


def test_an_annotator_member_may_read_but_not_create(owner, project, published) -> None:  # type: ignore[no-untyped-def]
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)
    refused = api_client(annotator).post(f"/api/projects/{project.id}/releases/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api_client(annotator).get(f"/api/projects/{project.id}/releases/").status_code == 200


def test_someone_elses_project_is_not_found(project, published) -> None:  # type: ignore[no-untyped-def]
    stranger = api_client(factories.user(Role.ML_ENGINEER))
    base = f"/api/projects/{project.id}/releases/"
    for response in (
        stranger.get(base),
        stranger.post(base, {}, format="json"),
        stranger.get(f"{base}1/"),
        stranger.get(f"{base}1/download/", {"file": "manifest.json"}),
        stranger.get(f"{base}diff/", {"from": 1, "to": 1}),
    ):
        assert response.status_code == 404
        assert set(response.json()) == {"message", "code", "extra"}


def test_downloads_carry_the_sha256_etag_and_resume_with_ranges(owner, project, published) -> None:  # type: ignore[no-untyped-def]
    client = api_client(owner)
    url = f"/api/projects/{project.id}/releases/1/download/"
    detail = client.get(f"/api/projects/{project.id}/releases/1/").json()
    entry = next(f for f in detail["files"] if f["path"] == "parquet/train.parquet")

    full = client.get(url, {"file": "parquet/train.parquet"})
    body = b"".join(full.streaming_content)
    assert full.status_code == 200 and full["ETag"] == f'"{entry["sha256"]}"'
    assert hashlib.sha256(body).hexdigest() == entry["sha256"] and len(body) == entry["bytes"]
    assert len(pd.read_parquet(io.BytesIO(body))) == entry["rows"]

    part = client.get(
        url, {"file": "parquet/train.parquet"}, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=full["ETag"]
    )
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:]
    suffix = client.get(url, {"file": "parquet/train.parquet"}, HTTP_RANGE="bytes=-10")
    assert b"".join(suffix.streaming_content) == body[-10:]
    stale = client.get(
        url, {"file": "parquet/train.parquet"}, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"other"'
    )
    assert stale.status_code == 200
    assert (
        client.get(url, {"file": "parquet/train.parquet"}, HTTP_RANGE=f"bytes={len(body)}-").status_code
        == 416
    )
    assert (
        client.get(url, {"file": "parquet/train.parquet"}, HTTP_IF_NONE_MATCH=full["ETag"]).status_code == 304
    )

    manifest = client.get(url, {"file": "manifest.json"})
    assert hashlib.sha256(b"".join(manifest.streaming_content)).hexdigest() == detail["manifest_sha256"]
    for bad in ("../../settings.py", "parquet/nope.parquet", ""):
        assert client.get(url, {"file": bad}).status_code in (400, 404)


def test_the_diff_endpoint_counts_changes_and_serves_the_list(
    owner, project, published, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    item = Item.objects.filter(project=project).order_by("id").first()
    flipped = "toxic" if item.gold == "non-toxic" else "non-toxic"
    annotate(item, 11, flipped)
    annotate(item, 12, flipped)
    with django_capture_on_commit_callbacks(execute=True):
        api_client(owner).post(f"/api/projects/{project.id}/releases/", {}, format="json")
    client = api_client(owner)
    summary = client.get(f"/api/projects/{project.id}/releases/diff/", {"from": 1, "to": 2}).json()
    assert summary["counts"]["relabeled"] == 1 and summary["counts"]["added"] == 0
    listing = client.get(f"/api/projects/{project.id}/releases/diff/", {"from": 1, "to": 2, "list": "csv"})
    frame = pd.read_csv(io.BytesIO(b"".join(listing.streaming_content)))
    assert list(frame["item_id"]) == [item.id] and list(frame["new_label"]) == [flipped]
    assert client.get(f"/api/projects/{project.id}/releases/diff/", {"from": "x", "to": 2}).status_code == 400


def test_bad_create_input_names_the_problem(owner, project) -> None:  # type: ignore[no-untyped-def]
    client = api_client(owner)
    bad = client.post(f"/api/projects/{project.id}/releases/", {"formats": ["trl"]}, format="json")
    assert bad.status_code == 400 and "preference" in bad.json()["message"]
    bad = client.post(f"/api/projects/{project.id}/releases/", {"min_annotators": 0}, format="json")
    assert bad.status_code == 400 and "min_annotators" in bad.json()["extra"]["fields"]


def test_the_release_endpoints_are_in_the_openapi_schema() -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/projects/{project_id}/releases/"])
    download = paths["/api/projects/{project_id}/releases/{version}/download/"]["get"]
    assert {"200", "206", "304", "416"} <= set(download["responses"])
    assert "/api/projects/{project_id}/releases/diff/" in paths
