"""The rounds and releases pages in a real headless Chromium: an ML engineer who is a member
signs in, opens each page, the plots have pixels, the diff form and a download link work."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import assert_not_blank
from tests.pages.helpers import project_with_history
from workbench.accounts.models import Role
from workbench.accounts.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_image(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    image = f"document.querySelector('{selector}')"
    page.wait_for_function(f"{image}.complete && {image}.naturalWidth > 0")


def test_an_ml_engineer_member_sees_the_learning_curve_a_rounds_threshold_and_the_releases(
    browser_page,
    live_server,
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    engineer = user_create(email="mle@example.test", role=Role.ML_ENGINEER, password="s3cret-pass")
    project, rounds, releases = project_with_history(engineer)
    page = browser_page
    base = f"{live_server.url}/rounds/projects/{project.id}/"

    page.goto(base)
    assert "/quality/login/" in page.url
    page.fill("input[name=username]", "mle@example.test")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("#login button")
    page.wait_for_url(base)
    assert page.locator("#rounds tr[data-round]").count() == 3
    assert "Overview & agreement" not in page.locator("nav.tabs").inner_text()  # admins only
    wait_for_image(page, "#learning-curve")
    assert_not_blank(page.locator("#learning-curve").screenshot(), "learning curve")

    page.click(f"#rounds tr[data-round='{rounds[2].id}'] a")
    page.wait_for_selector("#pr-curve")
    wait_for_image(page, "#pr-curve")
    assert_not_blank(page.locator("#pr-curve").screenshot(), "precision-recall curve")
    assert "(chosen)" in page.locator("table.costs tr.chosen").inner_text()
    assert page.locator("#batch tr[data-item]").count() == rounds[2].selections.count()
    assert "embed" in page.locator("#timings").inner_text()

    page.click("nav.tabs >> text=Releases")
    page.wait_for_selector("#releases")
    assert page.locator("#releases tr[data-version]").count() == 2
    page.click("#diff-form button")
    page.wait_for_selector("#diff-counts")
    assert page.locator("#diff-counts tr[data-change='relabeled'] td.num").inner_text() == "1"

    page.goto(f"{live_server.url}/releases/projects/{project.id}/2/")
    assert "Datasheet:" in page.locator("#datasheet h1").inner_text()
    assert page.locator("#datasheet table").count() >= 1
    with page.expect_download() as info:
        page.click("#files a.download >> text=DATASHEET.md")
    path = info.value.path()
    assert path is not None and path.read_text(encoding="utf-8").startswith("# Datasheet:")
    assert_not_blank(page.screenshot(full_page=True), "release page")


def test_an_annotator_member_is_refused_and_a_stranger_finds_nothing(
    browser_page,
    live_server,
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    from workbench.projects.services import project_member_add

    owner = factories.user(Role.ML_ENGINEER)
    project, _, _ = project_with_history(owner)
    annotator = user_create(email="ann@example.test", role=Role.ANNOTATOR, password="s3cret-pass")
    project_member_add(project=project, user=annotator)
    user_create(email="other@example.test", role=Role.ML_ENGINEER, password="s3cret-pass")
    page = browser_page
    for email, status in (("ann@example.test", 403), ("other@example.test", 404)):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/quality/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", "s3cret-pass")
        page.click("#login button")
        page.wait_for_load_state()
        for url in (f"/rounds/projects/{project.id}/", f"/releases/projects/{project.id}/1/"):
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == status, (email, url)
