"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright): sign in,
open every page, check the plots render and the send-to-review button works."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import assert_not_blank
from tests.quality.helpers import annotate, annotators, separable_items
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.quality.models import LabelIssue
from workbench.quality.services import quality_compute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sees_agreement_annotators_and_issues_and_sends_one_to_review(
    browser_page, live_server, fake_gateway
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=3)
    items = separable_items(project, 40)
    users = annotators(3)
    annotate(project, items, users, [0.0, 0.1, 0.4], flipped={items[5].id, items[22].id}, seed=3)
    quality_compute(project=project)
    user_create(email="boss@example.test", role=Role.ADMIN, password="s3cret-pass")
    page = browser_page
    base = f"{live_server.url}/quality/projects/{project.id}/"

    page.goto(base)
    assert "/quality/login/" in page.url
    page.fill("input[name=username]", "boss@example.test")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("#login button")
    page.wait_for_url(base)
    assert page.locator("#agreement").inner_text().count("kappa") >= 2
    for plot in ("#trend-plot", "#consensus-plot"):
        page.wait_for_function(
            f"document.querySelector('{plot}').complete && document.querySelector('{plot}').naturalWidth > 0"
        )
        assert_not_blank(page.locator(plot).screenshot(), plot)

    page.goto(base + "annotators/")
    page.wait_for_function("document.querySelector('#annotators-plot').naturalWidth > 0")
    assert_not_blank(page.locator("#annotators-plot").screenshot(), "annotators plot")
    careless = page.locator(f"tr[data-annotator='{users[2].email}']")
    assert "FLAGGED" in careless.inner_text()
    assert "FLAGGED" not in page.locator(f"tr[data-annotator='{users[0].email}']").inner_text()

    page.goto(base + "issues/")
    rows = page.locator("#issues tr[data-issue]")
    assert rows.count() >= 2
    first = rows.first
    issue_id = int(first.get_attribute("data-issue") or 0)
    first.locator("button.send-to-review").click()
    page.wait_for_selector(".messages")
    assert "sent to review" in page.locator(".messages").inner_text()
    assert LabelIssue.objects.get(id=issue_id).status == "in_review"
    assert "Review Requested" in page.locator("#changes").inner_text()
    assert_not_blank(page.screenshot(full_page=True), "issues page")

    page.goto(f"{live_server.url}/quality/")
    assert project.name in page.locator("#projects").inner_text()
