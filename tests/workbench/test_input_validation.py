"""Issue 13, defects 5-7: gold stays with admins and ML engineers; settings are checked against
the ranges the code needs; unvalidated input answers 400 naming the field, never 500 or 502."""

from __future__ import annotations

import math

import numpy as np
import pytest

import active_learning as al
import label_quality as lq
from tests import factories
from tests.factories import api_client
from workbench.accounts.models import Role
from workbench.bounds import Bound
from workbench.errors import ValidationFailed
from workbench.projects.services import project_member_add
from workbench.quality.services import quality_settings_update
from workbench.quality.services.settings import QUALITY_BOUNDS
from workbench.rounds.services import ROUND_BOUNDS, round_config_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project(owner=factories.user(Role.ML_ENGINEER))
    factories.toxicity_items(project, 5)  # every third is gold "toxic", the others "non-toxic"
    return project


# Defect 5: gold answers


@pytest.mark.parametrize(
    ("role", "sees_gold"), [(Role.ADMIN, True), (Role.ML_ENGINEER, True), (Role.ANNOTATOR, False)]
)
def test_only_admins_and_ml_engineers_read_the_gold_answers(project, role: Role, sees_gold: bool) -> None:  # type: ignore[no-untyped-def]
    user = factories.user(role)
    project_member_add(project=project, user=user)
    response = api_client(user).get(f"/api/projects/{project.id}/items/")
    assert response.status_code == 200
    items = response.json()["results"]
    assert len(items) == 5
    if sees_gold:
        assert [i["gold"] for i in items][:2] == ["toxic", "non-toxic"]
    else:
        assert all("gold" not in i for i in items)
        assert "toxic" not in response.content.decode().replace("non-toxic", "")


# Defect 6: settings against what the code needs


@pytest.mark.parametrize("value", [0, 1, -0.1, 1.5, "NaN", "Infinity"])
def test_a_gold_threshold_the_library_refuses_is_a_400(project, value: object) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.patch(
        f"/api/projects/{project.id}/quality/settings/", {"gold_threshold": value}, format="json"
    )
    assert response.status_code == 400
    assert "gold_threshold" in response.json()["extra"]["fields"]
    assert admin.get(f"/api/projects/{project.id}/quality/settings/").json()["gold_threshold"] == 0.8


def test_the_service_refuses_it_too_so_commands_and_the_admin_cannot_store_it(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as info:
        quality_settings_update(project=project, gold_threshold=1.0)
    assert "gold_threshold" in info.value.extra["fields"]


def test_a_gold_threshold_inside_the_range_is_kept_and_recompute_runs(  # type: ignore[no-untyped-def]
    project, django_capture_on_commit_callbacks
) -> None:
    admin = api_client(factories.user(Role.ADMIN))
    base = f"/api/projects/{project.id}/quality/"
    assert admin.patch(base + "settings/", {"gold_threshold": 0.999}, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(base + "recompute/").status_code in (200, 202)
    assert admin.get(base).status_code == 200


def _edges(bound: Bound) -> list[float]:
    return [bound.low, bound.high, bound.low + 1e-6, bound.high - 1e-6]


@pytest.mark.parametrize("value", _edges(QUALITY_BOUNDS["gold_threshold"]))
def test_the_gold_threshold_bound_is_the_one_label_quality_enforces(value: float) -> None:
    ratings = np.array([[0.0, 1.0], [1.0, 1.0]])
    gold = np.array([0.0, 1.0])
    refused_here = QUALITY_BOUNDS["gold_threshold"].problem(value) is not None
    try:
        lq.gold_report(ratings, gold, threshold=value, min_answers=1)
        refused_by_library = False
    except ValueError:
        refused_by_library = True
    assert refused_here == refused_by_library


def test_both_costs_zero_is_refused_as_the_threshold_code_refuses_it(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(al.InvalidInputError):
        al.choose_threshold([0, 1], [0.2, 0.8], cost_fp=0, cost_fn=0)
    engineer = project.created_by
    base = f"/api/projects/{project.id}/rounds/"
    assert api_client(engineer).patch(base + "settings/", {"cost_fp": 0}, format="json").status_code == 200
    refused = api_client(engineer).patch(base + "settings/", {"cost_fn": 0}, format="json")
    assert refused.status_code == 400 and "cost_fn" in refused.json()["extra"]["fields"]
    started = api_client(engineer).post(
        base, {"strategy": "random", "cost_fp": 0, "cost_fn": 0}, format="json"
    )
    assert started.status_code == 400 and "cost_fp" in started.json()["extra"]["fields"]
    with pytest.raises(ValidationFailed):
        round_config_update(project=project, cost_fn=0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("validation_percent", 51), ("batch_size", 0), ("cost_fp", "NaN"), ("auto_round_every", 2**40)],
)
def test_round_settings_outside_their_bounds_are_400s(project, field: str, value: object) -> None:  # type: ignore[no-untyped-def]
    response = api_client(project.created_by).patch(
        f"/api/projects/{project.id}/rounds/settings/", {field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert ROUND_BOUNDS[field].problem(float(value) if isinstance(value, str) else value) is not None


@pytest.mark.parametrize(
    ("field", "value"), [("min_annotators", 0), ("min_quality", 1.5), ("min_quality", "NaN")]
)
def test_release_options_outside_their_bounds_are_400s(project, field: str, value: object) -> None:  # type: ignore[no-untyped-def]
    response = api_client(project.created_by).post(
        f"/api/projects/{project.id}/releases/", {field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_a_bound_names_its_range() -> None:
    assert Bound(0, 1, low_open=True, high_open=True).problem(1) == "must be a number in (0, 1); got 1"
    assert Bound(1, 5, integer=True).problem(2.5) is not None
    assert Bound(0, 1).problem(math.nan) is not None
    assert Bound(0, 1, nullable=True).problem(None) is None


# Defect 7: unvalidated input

LISTS = [
    "items/",
    "annotations/",
    "rounds/",
    "quality/consensus/",
    "quality/issues/",
    "quality/changes/",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query", ["limit=99999999999999999999", "limit=0", "limit=abc", "limit=1001", "offset=-1", "offset=²"]
)
def test_a_bad_page_parameter_is_a_400_that_names_it(project, path: str, query: str) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.get(f"/api/projects/{project.id}/{path}?{query}")
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == query.split("=")[0]


def test_pages_are_capped_by_api_max_page_size(project, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_MAX_PAGE_SIZE = 3
    admin = api_client(factories.user(Role.ADMIN))
    base = f"/api/projects/{project.id}/items/"
    assert len(admin.get(base).json()["results"]) == 3  # the default page (100) is capped too
    assert len(admin.get(base + "?limit=3").json()["results"]) == 3
    refused = admin.get(base + "?limit=4")
    assert refused.status_code == 400 and "API_MAX_PAGE_SIZE" in refused.json()["message"]
    far = admin.get(base + "?offset=100000000000000000")
    assert far.status_code == 200 and far.json()["results"] == []


@pytest.mark.parametrize(
    "query", ["from=²&to=1", "from=1&to=99999999999999999999", "from=1", "from=1&to=2&list=xml"]
)
def test_a_bad_release_diff_query_is_a_400_that_names_the_parameter(project, query: str) -> None:  # type: ignore[no-untyped-def]
    response = api_client(project.created_by).get(f"/api/projects/{project.id}/releases/diff/?{query}")
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert set(fields) & {"from", "to", "list"}


@pytest.mark.parametrize("ids", [[1e20], [2**70], [0], ["x"]])
def test_project_ids_that_cannot_be_ids_are_a_400(fake_gateway, ids: list[object]) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.post("/api/annotators/", {"email": "a@example.test", "project_ids": ids}, format="json")
    assert response.status_code == 400
    assert "project_ids" in response.json()["extra"]["fields"]
    assert "a@example.test" not in fake_gateway.users


def test_names_longer_than_the_user_model_allows_are_a_400(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.post(
        "/api/annotators/", {"email": "b@example.test", "first_name": "x" * 151}, format="json"
    )
    assert response.status_code == 400 and "first_name" in response.json()["extra"]["fields"]


@pytest.mark.parametrize("length", [2, 51, 200])
def test_a_project_name_label_studio_would_refuse_is_a_400_before_label_studio_is_called(  # type: ignore[no-untyped-def]
    fake_gateway, length: int
) -> None:
    engineer = api_client(factories.user(Role.ML_ENGINEER))
    response = engineer.post(
        "/api/projects/", {"name": "n" * length, "kind": "toxicity_binary"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()["extra"]["fields"]
    assert fake_gateway.projects == {}


def test_a_project_name_of_50_characters_is_accepted(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    engineer = api_client(factories.user(Role.ML_ENGINEER))
    response = engineer.post("/api/projects/", {"name": "n" * 50, "kind": "toxicity_binary"}, format="json")
    assert response.status_code == 201


def test_an_unknown_issue_status_filter_is_a_400(project) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.get(f"/api/projects/{project.id}/quality/issues/?status=bogus")
    assert response.status_code == 400 and "status" in response.json()["extra"]["fields"]


def test_a_path_no_route_matches_answers_the_apis_json_404(project) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    for path in ("/api/projects/-5/", "/api/projects/1/rounds/%0A/", "/api/nothing-here/"):
        response = admin.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_a_form_encoded_body_is_refused_not_half_read(project) -> None:  # type: ignore[no-untyped-def]
    # Form encoding cannot carry split_ratios' object; it used to be dropped silently (202).
    response = api_client(project.created_by).post(
        f"/api/projects/{project.id}/releases/", {"split_ratios": "-1"}, format="multipart"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_gold_threshold_stored_before_it_was_checked_gives_a_400_on_recompute_not_a_500(project) -> None:  # type: ignore[no-untyped-def]
    from workbench.quality.models import QualityRun, QualitySettings

    QualitySettings.objects.update_or_create(project=project, defaults={"gold_threshold": 1.0})
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.post(f"/api/projects/{project.id}/quality/recompute/")
    assert response.status_code == 400
    assert "gold_threshold" in response.json()["extra"]["fields"]
    assert "quality settings need a change" in response.json()["message"]
    assert QualityRun.objects.filter(project=project).count() == 0


def test_a_path_without_its_trailing_slash_is_still_redirected(project) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(factories.user(Role.ADMIN))
    response = admin.get(f"/api/projects/{project.id}")
    assert response.status_code == 301 and response["Location"].endswith(f"/api/projects/{project.id}/")
