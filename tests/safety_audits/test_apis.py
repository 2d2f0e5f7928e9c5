"""The audits over the API: who may read and run them (one user who may, ones who may not), what
they answer, and 400s that name the field."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import api_client
from tests.safety_audits.helpers import biased_annotations, identity_records, model_round
from workbench.accounts.models import Role
from workbench.audits.services.identity import audit_settings_update
from workbench.projects.models import Item, ItemImport
from workbench.projects.services import items_import_records, project_member_add

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project(owner=owner)
    items_import_records(project=project, records=identity_records(200))
    project.owner = owner
    return project


def test_an_annotator_member_is_refused_and_a_stranger_is_told_not_found(project) -> None:  # type: ignore[no-untyped-def]
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)
    stranger = factories.user(Role.ML_ENGINEER)
    base = f"/api/projects/{project.id}/audits"
    for path in ("settings/", "identity/", "labels/", "drift/"):
        assert api_client(annotator).get(f"{base}/{path}").status_code == 403, path
        assert api_client(stranger).get(f"{base}/{path}").status_code == 404, path
        assert APIClient().get(f"{base}/{path}").status_code in (401, 403), path
    assert api_client(annotator).post(f"{base}/identity/").status_code == 403
    assert api_client(stranger).post(f"{base}/drift/", {}, format="json").status_code == 404


def test_settings_identity_counts_and_bad_settings_name_the_field(project) -> None:  # type: ignore[no-untyped-def]
    client = api_client(project.owner)
    base = f"/api/projects/{project.id}/audits"
    assert client.get(f"{base}/settings/").json() == {
        "identity_columns": [],
        "identity_threshold": 0.5,
        "lexicon": None,
        "min_count": 10,
    }
    summary = client.get(f"{base}/identity/").json()
    assert summary["assigned"] == 200 and summary["counts"]["muslim"] == 40
    assert summary["imports"][0]["counts"]["muslim"] == 40
    bad = client.patch(f"{base}/settings/", {"identity_threshold": 2}, format="json")
    assert bad.status_code == 400 and "identity_threshold" in bad.json()["extra"]["fields"]
    bad_lexicon = client.patch(f"{base}/settings/", {"lexicon": {"!!": "x"}}, format="json")
    assert bad_lexicon.status_code == 400 and bad_lexicon.json()["extra"]["field"] == "lexicon"
    changed = client.patch(f"{base}/settings/", {"identity_columns": ["id_gay"]}, format="json")
    assert changed.status_code == 200 and changed.json()["identity_columns"] == ["id_gay"]
    recomputed = client.post(f"{base}/identity/").json()
    assert recomputed["counts"] == {"id_gay": 40}


def test_fairness_and_the_model_card_of_a_round(project) -> None:  # type: ignore[no-untyped-def]
    audit_settings_update(project=project, min_count=3)
    round_ = model_round(project, list(Item.objects.filter(project=project).order_by("id")))
    client = api_client(project.owner)
    url = f"/api/projects/{project.id}/audits/rounds/{round_.id}"
    assert client.get(f"{url}/fairness/").status_code == 404  # not run yet: says how
    assert client.get(f"{url}/model-card/").status_code == 404
    ran = client.post(f"{url}/fairness/")
    assert ran.status_code == 201, ran.json()
    assert {g["group"] for g in ran.json()["report"]["groups"]} >= {"muslim", "christian"}
    assert client.get(f"{url}/fairness/").json()["report"] == ran.json()["report"]
    card = client.get(f"{url}/model-card/")
    assert card.status_code == 200 and card["Content-Type"].startswith("text/markdown")
    assert card.content.decode().startswith("# Model card:")
    other = factories.project(owner=project.owner)
    assert client.get(f"/api/projects/{other.id}/audits/rounds/{round_.id}/fairness/").status_code == 404


def test_labels_and_drift_on_demand(project) -> None:  # type: ignore[no-untyped-def]
    client = api_client(project.owner)
    base = f"/api/projects/{project.id}/audits"
    assert client.get(f"{base}/labels/").status_code == 404
    biased_annotations(list(Item.objects.filter(project=project).order_by("id")))
    audited = client.post(f"{base}/labels/")
    assert audited.status_code == 201 and audited.json()["n_flagged"] == 1
    assert audited.json()["report"]["flagged"][0]["annotator"] == "ls-user-3003"

    items_import_records(project=project, records=identity_records(50, seed=9, start=200))
    a, b = ItemImport.objects.filter(project=project).order_by("id")
    listed = client.get(f"{base}/drift/").json()["results"]
    assert [c["item_import_id"] for c in listed] == [b.id, a.id]  # one check per import, newest first
    ran = client.post(
        f"{base}/drift/", {"side_a": f"import:{a.id}", "side_b": f"import:{b.id}"}, format="json"
    )
    assert ran.status_code == 201 and ran.json()["status"] == "done" and ran.json()["verdict"]
    bad = client.post(f"{base}/drift/", {"side_a": "last week", "side_b": f"import:{b.id}"}, format="json")
    assert bad.status_code == 400 and "side_a" in bad.json()["extra"]["fields"]
    missing = client.post(
        f"{base}/drift/", {"side_a": "release:3", "side_b": f"import:{b.id}"}, format="json"
    )
    assert missing.status_code == 400 and missing.json()["extra"]["field"] == "side_a"


def test_the_openapi_schema_has_the_audit_endpoints_without_name_clashes() -> None:
    # No generator warning at all (name clashes included) is tests/workbench/test_schema.py's
    # check (spectacular --fail-on-warn); turning every Python warning into an error here would
    # depend on what ran first (whitenoise warns once, at its first request, about var/static).
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("settings/", "identity/", "labels/", "drift/", "rounds/{round_id}/fairness/"):
        assert f"/api/projects/{{project_id}}/audits/{path}" in paths, path
