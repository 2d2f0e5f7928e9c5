"""The incident pages in a real headless Chromium: an ML engineer who is a member signs in, finds
the batch from the Incidents tab and reads its triage report (the figures, the rendered
Markdown and the Markdown to copy)."""

from __future__ import annotations

import pytest

from tests.browser import assert_not_blank
from tests.incidents.test_report import relabeled_batch
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.projects.services import project_member_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_engineer_reads_the_triage_report_of_a_batch(
    browser_page, live_server, fake_gateway, hashed_features
) -> None:  # type: ignore[no-untyped-def]
    engineer = user_create(email="oncall@example.test", role=Role.ML_ENGINEER, password="s3cret-pass")
    project, batch = relabeled_batch(fake_gateway)
    project_member_add(project=project, user=engineer)
    page = browser_page
    base = f"{live_server.url}/incidents/projects/{project.id}/"

    page.goto(base)
    assert "/quality/login/" in page.url
    page.fill("input[name=username]", "oncall@example.test")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("#login button")
    page.wait_for_url(base)
    assert "Incidents" in page.locator("nav.tabs a.active").inner_text()
    assert page.locator("#batches tr[data-batch]").count() == 1

    page.click(f"#batches tr[data-batch='{batch.id}'] a")
    page.wait_for_selector("#report")
    assert page.locator("#card-fp b").inner_text() == "3/5"
    assert page.locator("#card-fn b").inner_text() == "2/4"
    assert page.locator("#card-campaign b").inner_text() == "9/10"
    row = page.locator("#by-report tr[data-report='user_flagged_false_positive'] td.num")
    assert row.all_inner_texts() == ["4", "4", "3"]
    assert page.locator("#report h2").first.inner_text() == "What happened"
    assert "60.0%" in page.locator("#report table").nth(2).inner_text()
    assert page.locator("#markdown").input_value().startswith(f"# Incident triage: feedback batch {batch.id}")
    assert_not_blank(page.locator("#report").screenshot(), "triage report")
