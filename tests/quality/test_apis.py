from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import api_client
from tests.quality.helpers import annotate, annotators, separable_items
from workbench.accounts.models import Role
from workbench.projects.services import project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=3)
    items = separable_items(project, 40)
    annotate(project, items, annotators(3), [0.0, 0.1, 0.4], flipped={items[5].id, items[22].id}, seed=2)
    return project


def test_an_admin_recomputes_and_reads_every_quality_table(
    project, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    base = f"/api/projects/{project.id}/quality/"
    with django_capture_on_commit_callbacks(execute=True):  # the Celery task, eagerly
        response = admin.post(base + "recompute/")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert admin.get(base).json()["run"]["status"] == "done"
    summary = admin.get(base).json()
    assert (
        summary["overview"]["pool"] == 40
        and summary["summary"]["statistics"]["fleiss_kappa"]["value"] is not None
    )
    rows = admin.get(base + "annotators/").json()
    assert [r["flagged"] for r in sorted(rows, key=lambda r: r["ls_user_id"])] == [False, False, True]
    assert admin.get(base + "consensus/").json()["count"] == 40
    issues = admin.get(base + "issues/?status=open").json()["results"]
    assert issues
    sent = admin.post(base + f"issues/{issues[0]['id']}/review/")
    assert sent.status_code == 200 and sent.json()["status"] == "in_review"
    again = admin.post(base + f"issues/{issues[0]['id']}/review/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    changes = admin.get(base + "changes/").json()["results"]
    assert changes[0]["kind"] == "review_requested"
    patched = admin.patch(base + "settings/", {"gold_rate": 0.2}, format="json")
    assert patched.status_code == 200 and patched.json()["gold_rate"] == 0.2
    assert admin.patch(base + "settings/", {"gold_rate": 2}, format="json").status_code == 400


def test_a_member_who_is_not_an_admin_is_refused_and_a_stranger_sees_nothing(project) -> None:  # type: ignore[no-untyped-def]
    engineer = factories.user(Role.ML_ENGINEER)
    project_member_add(project=project, user=engineer)
    stranger = factories.user(Role.ML_ENGINEER)
    path = f"/api/projects/{project.id}/quality/annotators/"
    assert api_client(engineer).get(path).status_code == 403
    assert api_client(stranger).get(path).status_code == 404
    assert APIClient().get(path).status_code in (401, 403)


def test_the_dashboard_pages_are_for_admins_only(project, client) -> None:  # type: ignore[no-untyped-def]
    page = f"/quality/projects/{project.id}/"
    assert client.get(page).status_code == 302  # to the login page
    engineer = factories.user(Role.ML_ENGINEER)
    project_member_add(project=project, user=engineer)
    client.force_login(engineer)
    assert client.get(page).status_code == 403
    client.force_login(factories.user(Role.ADMIN))
    for path in (
        "",
        "annotators/",
        "issues/",
        "plots/trend.svg",
        "plots/annotators.svg",
        "plots/consensus.svg",
    ):
        response = client.get(page + path)
        assert response.status_code == 200, path
    assert client.get("/quality/").status_code == 200
