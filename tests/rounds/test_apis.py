"""Rounds over the API: who may start and read them, and what a round answers with."""

from __future__ import annotations

import pytest

from tests import factories
from tests.factories import api_client
from tests.rounds.helpers import toxicity_pool
from workbench.accounts.models import Role
from workbench.projects.services import project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project(owner=owner)
    toxicity_pool(project, 30)
    project.owner = owner
    return project


def test_a_member_ml_engineer_starts_a_round_and_reads_its_selection(
    project,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    client = api_client(project.owner)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/api/projects/{project.id}/rounds/",
            {"strategy": "seed_keyword", "batch_size": 5, "buffer_size": 5, "seed": 3, "cost_fn": 4},
            format="json",
        )
    # The test's transaction commits only after the response, so the round was still pending.
    assert started.status_code == 202, started.json()
    body = started.json()
    assert (body["status"], body["strategy"], body["seed"], body["trigger"]) == (
        "pending",
        "seed_keyword",
        3,
        "api",
    )
    assert body["parameters"]["cost_fn"] == 4
    detail = client.get(f"/api/projects/{project.id}/rounds/{body['id']}/").json()
    assert detail["status"] == "done"
    assert [s["rank"] for s in detail["selection"]] == [0, 1, 2, 3, 4]
    listed = client.get(f"/api/projects/{project.id}/rounds/").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


def test_an_annotator_member_reads_rounds_but_may_not_start_one(project) -> None:  # type: ignore[no-untyped-def]
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)
    client = api_client(annotator)
    refused = client.post(f"/api/projects/{project.id}/rounds/", {"strategy": "random"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert client.get(f"/api/projects/{project.id}/rounds/").status_code == 200
    assert (
        client.patch(
            f"/api/projects/{project.id}/rounds/settings/", {"batch_size": 3}, format="json"
        ).status_code
        == 403
    )


def test_an_ml_engineer_of_another_project_sees_nothing(project) -> None:  # type: ignore[no-untyped-def]
    stranger = api_client(factories.user(Role.ML_ENGINEER))
    assert (
        stranger.post(
            f"/api/projects/{project.id}/rounds/", {"strategy": "random"}, format="json"
        ).status_code
        == 404
    )
    assert stranger.get(f"/api/projects/{project.id}/rounds/").status_code == 404
    assert stranger.get(f"/api/projects/{project.id}/rounds/settings/").status_code == 404


def test_an_unknown_strategy_is_a_400_listing_the_valid_ones(project) -> None:  # type: ignore[no-untyped-def]
    response = api_client(project.owner).post(
        f"/api/projects/{project.id}/rounds/", {"strategy": "oracle"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "margin" in response.json()["extra"]["valid"]


def test_round_settings_are_read_and_changed(project) -> None:  # type: ignore[no-untyped-def]
    client = api_client(project.owner)
    assert client.get(f"/api/projects/{project.id}/rounds/settings/").json()["auto_round_every"] is None
    changed = client.patch(
        f"/api/projects/{project.id}/rounds/settings/",
        {"auto_round_every": 25, "strategy": "entropy", "cost_fn": 3},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["auto_round_every"], changed.json()["strategy"], changed.json()["cost_fn"]) == (
        25,
        "entropy",
        3,
    )
    bad = client.patch(f"/api/projects/{project.id}/rounds/settings/", {"strategy": "nope"}, format="json")
    assert bad.status_code == 400


def test_strategies_are_listed_by_name(project) -> None:  # type: ignore[no-untyped-def]
    import active_learning as al

    listed = api_client(project.owner).get("/api/strategies/").json()
    assert [s["name"] for s in listed] == al.strategy_names()
    assert next(s for s in listed if s["name"] == "seed_keyword")["cold_start"] is True


def test_the_cap_on_annotators_and_the_gold_share_go_through_the_api_within_their_bounds(
    project,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    client = api_client(project.owner)
    settings_url = f"/api/projects/{project.id}/rounds/settings/"
    assert client.get(settings_url).json()["max_annotators_per_item"] == 5
    changed = client.patch(settings_url, {"max_annotators_per_item": 6}, format="json")
    assert changed.status_code == 200 and changed.json()["max_annotators_per_item"] == 6
    bad = client.patch(settings_url, {"max_annotators_per_item": 0}, format="json")
    assert bad.status_code == 400 and "max_annotators_per_item" in bad.json()["extra"]["fields"]
    rounds_url = f"/api/projects/{project.id}/rounds/"
    refused = client.post(rounds_url, {"strategy": "split_votes", "gold_share": 1.5}, format="json")
    assert refused.status_code == 400 and "gold_share" in refused.json()["extra"]["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            rounds_url, {"strategy": "split_votes", "gold_share": 0.2, "batch_size": 5}, format="json"
        )
    assert started.status_code == 202, started.json()  # the test's transaction commits after the response
    detail = client.get(f"{rounds_url}{started.json()['id']}/").json()
    assert detail["status"] == "done", detail["error"]
    assert (detail["parameters"]["gold_share"], detail["parameters"]["max_annotators_per_item"]) == (0.2, 6)
