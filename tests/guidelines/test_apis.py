"""Guidelines over the API: who may publish, who may read, and what a bad request gets."""

from __future__ import annotations

import pytest

from tests import factories
from tests.fakes import FakeGateway
from workbench.accounts.models import Role
from workbench.projects.models import Project
from workbench.projects.services import project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    project = factories.project()
    factories.toxicity_items(project, 3)
    return project


def url(project: Project, tail: str = "") -> str:
    return f"/api/projects/{project.id}/guidelines/{tail}"


def test_an_admin_publishes_and_a_member_engineer_reads_versions_and_stats(
    project: Project, fake_gateway: FakeGateway
) -> None:
    admin = factories.user(Role.ADMIN)
    engineer = factories.user(Role.ML_ENGINEER)
    project_member_add(project=project, user=engineer)
    response = factories.api_client(admin).post(
        url(project), {"text": "# Rules\n\nInsults are toxic.", "note": "first"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1 and response.json()["author_name"] == admin.email
    assert fake_gateway.projects[project.ls_id()].instructions.startswith("<h1>Rules</h1>")

    reader = factories.api_client(engineer)
    listed = reader.get(url(project))
    assert listed.status_code == 200 and [v["note"] for v in listed.json()] == ["first"]
    detail = reader.get(url(project, "1/"))
    assert detail.status_code == 200 and detail.json()["text"] == "# Rules\n\nInsults are toxic."
    assert reader.get(url(project, "2/")).status_code == 404
    stats = reader.get(url(project, "stats/"))
    assert stats.status_code == 200
    assert stats.json()["current_version"] == 1
    assert [v["version"] for v in stats.json()["versions"]] == [1]
    assert stats.json()["versions"][0]["answers"] == 0


def test_an_engineer_may_not_publish_an_annotator_may_not_read_a_stranger_sees_nothing(
    project: Project,
) -> None:
    engineer = factories.user(Role.ML_ENGINEER)
    annotator = factories.user(Role.ANNOTATOR)
    stranger = factories.user(Role.ML_ENGINEER)
    for member in (engineer, annotator):
        project_member_add(project=project, user=member)
    body = {"text": "rules", "note": "first"}
    assert factories.api_client(engineer).post(url(project), body, format="json").status_code == 403
    assert factories.api_client(annotator).get(url(project, "stats/")).status_code == 403
    assert factories.api_client(annotator).get(url(project)).status_code == 403
    assert factories.api_client(stranger).get(url(project, "stats/")).status_code == 404
    assert factories.api_client(stranger).post(url(project), body, format="json").status_code == 404


def test_a_bad_publish_request_is_a_400_that_names_the_field(project: Project) -> None:
    admin = factories.api_client(factories.user(Role.ADMIN))
    missing = admin.post(url(project), {"text": "rules"}, format="json")
    assert missing.status_code == 400 and "note" in str(missing.json())
    blank = admin.post(url(project), {"text": "   ", "note": "x"}, format="json")
    assert blank.status_code == 400 and "text" in str(blank.json())
    assert admin.get(url(project)).json() == []


def test_a_release_asks_for_the_current_policy_only(project: Project, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.RELEASES_DIR = tmp_path / "releases"
    admin = factories.api_client(factories.user(Role.ADMIN))
    releases = f"/api/projects/{project.id}/releases/"
    refused = admin.post(releases, {"guideline_versions": "current"}, format="json")
    assert refused.status_code == 400 and "no published guideline" in refused.json()["message"]
    assert admin.post(releases, {"guideline_versions": "newest"}, format="json").status_code == 400
    admin.post(url(project), {"text": "rules", "note": "first"}, format="json")
    created = admin.post(releases, {"guideline_versions": "current"}, format="json")
    assert created.status_code == 202, created.json()
    assert created.json()["guideline_version"] == "v1"
    assert created.json()["filter_policy"]["guideline_versions"] == "current"


def test_the_dashboard_overview_shows_each_guideline_version(project: Project, client) -> None:  # type: ignore[no-untyped-def]
    admin = factories.user(Role.ADMIN)
    factories.api_client(admin).post(url(project), {"text": "rules", "note": "insults count"}, format="json")
    client.force_login(admin)
    page = client.get(f"/quality/projects/{project.id}/").content.decode()
    table = page[page.index('<table id="guideline-versions">') :]
    table = table[: table.index("</table>")]
    assert "<td>v1</td>" in table and "insults count" in table and "toxic 0" in table
