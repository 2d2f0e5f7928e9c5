"""The rounds and releases pages through Django's test client: who may open them, and what
they show (the browser test checks that they render and the plots have pixels)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.test import Client

from active_learning import evaluation as ev
from active_learning.metrics import choose_threshold
from tests import factories
from tests.pages.helpers import project_with_history
from workbench.accounts.models import Role
from workbench.projects.services import project_member_add
from workbench.releases.services import release_create
from workbench.rounds import evaluation
from workbench.rounds.models import Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(fake_gateway):  # type: ignore[no-untyped-def]
    return factories.user(Role.ML_ENGINEER)


@pytest.fixture
def history(owner):  # type: ignore[no-untyped-def]
    return project_with_history(owner)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def page_urls(project, rounds, releases) -> list[str]:  # type: ignore[no-untyped-def]
    p = project.id
    return [
        f"/rounds/projects/{p}/",
        f"/rounds/projects/{p}/learning-curve.svg",
        f"/rounds/projects/{p}/{rounds[1].id}/",
        f"/rounds/projects/{p}/{rounds[1].id}/pr-curve.svg",
        f"/releases/projects/{p}/",
        f"/releases/projects/{p}/1/",
        f"/releases/projects/{p}/diff/?from=1&to=2",
    ]


def test_a_member_ml_engineer_and_an_admin_open_every_page(owner, history) -> None:  # type: ignore[no-untyped-def]
    admin = factories.user(Role.ADMIN)
    for user in (owner, admin):
        client = signed_in(user)
        for url in page_urls(*history):
            response = client.get(url)
            assert response.status_code == 200, (user, url, response.content[:300])
    assert signed_in(owner).get("/rounds/").status_code == 200


def test_someone_elses_project_is_not_found_and_an_annotator_member_is_refused(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, releases = history
    stranger = factories.user(Role.ML_ENGINEER)
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)
    for url in page_urls(*history):
        assert signed_in(stranger).get(url).status_code == 404, url
        assert signed_in(annotator).get(url).status_code == 403, url
    assert signed_in(annotator).get("/rounds/").status_code == 403


def test_signed_out_visitors_are_sent_to_the_login(history) -> None:  # type: ignore[no-untyped-def]
    for url in page_urls(*history):
        response = Client().get(url)
        assert response.status_code == 302 and "/quality/login/" in response["Location"], url


def test_a_round_from_another_project_is_not_found(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, _ = history
    other = factories.project(owner=owner)
    assert signed_in(owner).get(f"/rounds/projects/{other.id}/{rounds[1].id}/").status_code == 404


def test_model_rounds_store_their_validation_scores_and_the_curve_has_intervals(history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, _ = history
    cold, second, third = rounds
    assert cold.validation_scores is None  # no model: nothing to validate
    for round_ in (second, third):
        stored = round_.validation_scores
        assert len(stored["y"]) == len(stored["p"]) == round_.validation_size
        point = evaluation.learning_point(round_)
        assert point.value == pytest.approx(round_.metrics["f1"])
        low, high = point.interval
        assert 0 <= low <= point.value <= high <= 1 and low < high
        # The stored scores reproduce the round's own threshold choice.
        y, p = np.asarray(stored["y"]).astype(int), np.asarray(stored["p"])
        assert choose_threshold(y, p, cost_fp=1.0, cost_fn=5.0).threshold == pytest.approx(
            round_.threshold["threshold"], abs=1e-5
        )


def test_the_round_page_shows_the_chosen_threshold_and_what_moving_it_costs(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, _ = history
    round_ = rounds[2]
    html = signed_in(owner).get(f"/rounds/projects/{project.id}/{round_.id}/").content.decode()
    (view,) = evaluation.threshold_views(round_)
    assert view.chosen is not None
    chosen_rows = [r for r in view.table if r.chosen]
    assert len(chosen_rows) == 1 and chosen_rows[0].d_fp == chosen_rows[0].d_fn == 0
    y, p = np.asarray(round_.validation_scores["y"]).astype(int), np.asarray(round_.validation_scores["p"])
    at_09 = next(r for r in view.table if r.threshold == 0.9)
    expected = ev.operating_points(y, p, [0.9])[0]
    assert (at_09.fp, at_09.fn) == (expected.fp, expected.fn)
    assert at_09.d_fn == expected.fn - view.chosen.fn
    assert f"{round_.threshold['threshold']:.3f} (chosen)" in html
    assert 'id="batch"' in html and html.count("<tr data-item=") == round_.selections.count()
    assert "seed_keyword" not in html and "margin" in html
    assert re.search(r"<th>embed</th>", html)


def test_the_project_page_lists_every_round_and_the_curve_svg_draws_them(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, _ = history
    client = signed_in(owner)
    html = client.get(f"/rounds/projects/{project.id}/").content.decode()
    assert html.count("<tr data-round=") == 3
    assert "(bootstrap)" in html
    svg = client.get(f"/rounds/projects/{project.id}/learning-curve.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"r2" in svg.content or svg.content.count(b"<path") > 5


def test_the_release_page_renders_the_datasheet_and_links_downloads_that_work(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, _, releases = history
    client = signed_in(owner)
    html = client.get(f"/releases/projects/{project.id}/1/").content.decode()
    assert '<div class="datasheet" id="datasheet">' in html and "<h1>Datasheet:" in html
    assert "<table>" in html  # the Markdown tables became HTML tables
    links = re.findall(r'class="download" href="([^"]+)"', html)
    assert len(links) == 1 + len(releases[0].manifest["files"])
    for link in links[:3]:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert response["ETag"].strip('"') in {
            releases[0].manifest_sha256,
            *(f["sha256"] for f in releases[0].manifest["files"]),
        }


def test_the_datasheet_escapes_html_in_the_projects_own_words(owner, fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from workbench.releases.views import render_markdown

    html = render_markdown("# Title\n\n<script>alert(1)</script> [x](javascript:alert(1))")
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html


def test_the_diff_page_counts_changes_and_refuses_bad_versions_clearly(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, _, _ = history
    client = signed_in(owner)
    html = client.get(f"/releases/projects/{project.id}/diff/?from=1&to=2").content.decode()
    counts = dict(re.findall(r'<tr data-change="(\w+)"><td>\w+</td><td class="num">(\d+)</td>', html))
    assert int(counts["added"]) > 0 and int(counts["relabeled"]) == 1
    assert "non-toxic -&gt; toxic" in html
    assert "list=csv" in html
    bad = client.get(f"/releases/projects/{project.id}/diff/?from=one&to=2")
    assert bad.status_code == 400
    assert "&#x27;from&#x27; must be a release version number; got &#x27;one&#x27;" in bad.content.decode()
    assert client.get(f"/releases/projects/{project.id}/diff/?from=1&to=9").status_code == 404


def test_a_round_without_stored_scores_shows_its_metric_without_an_interval(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, rounds, _ = history
    Round.objects.filter(id=rounds[1].id).update(validation_scores=None)  # as rounds made before
    older = Round.objects.get(id=rounds[1].id)
    point = evaluation.learning_point(older)
    assert point.value == pytest.approx(older.metrics["f1"]) and point.interval is None
    assert evaluation.threshold_views(older) == []
    client = signed_in(owner)
    html = client.get(f"/rounds/projects/{project.id}/{older.id}/").content.decode()
    assert "stored no validation scores" in html
    assert client.get(f"/rounds/projects/{project.id}/learning-curve.svg").status_code == 200


def test_a_diff_with_an_unpublished_version_says_so(owner, history) -> None:  # type: ignore[no-untyped-def]
    project, _, _ = history
    pending = release_create(project=project, created_by=owner)  # its build never ran
    response = signed_in(owner).get(f"/releases/projects/{project.id}/diff/?from=1&to={pending.version}")
    assert response.status_code == 409
    assert f"Release {pending.version} is pending, not published." in response.content.decode()
    listing = signed_in(owner).get(f"/releases/projects/{project.id}/").content.decode()
    assert f'<tr data-version="{pending.version}" class="status-pending">' in listing


def test_a_project_without_rounds_or_releases_says_how_to_start(owner) -> None:  # type: ignore[no-untyped-def]
    project = factories.project(owner=owner)
    client = signed_in(owner)
    rounds_page = client.get(f"/rounds/projects/{project.id}/").content.decode()
    assert "No rounds yet" in rounds_page and "start_round" in rounds_page
    releases_page = client.get(f"/releases/projects/{project.id}/").content.decode()
    assert "No releases yet" in releases_page and "A diff needs two published versions" in releases_page
    svg = client.get(f"/rounds/projects/{project.id}/learning-curve.svg")
    assert svg.status_code == 200 and b"No validated round yet" in svg.content
    assert client.get(f"/releases/projects/{project.id}/1/").status_code == 404


@pytest.mark.parametrize(("role", "landing"), [(Role.ADMIN, "/quality/"), (Role.ML_ENGINEER, "/rounds/")])
def test_signing_in_without_a_next_link_lands_on_a_page_the_user_may_open(role: Role, landing: str) -> None:
    from workbench.accounts.services import user_create

    email = f"landing-{role.value}@example.test"
    user_create(email=email, role=role, password="s3cret-pass")
    client = Client()
    response = client.post("/quality/login/", {"username": email, "password": "s3cret-pass"})
    assert response.status_code == 302 and response["Location"] == landing
    assert client.get(landing).status_code == 200
