"""The guideline in force is what an annotator sees in Label Studio's own labeling UI: publish v1
then v2 through the workbench, log in to the real Label Studio as an annotator in a real
Chromium, open the labeling stream, and find v2's heading and rule (and not v1's) on the page.
The screenshot is kept under var/screenshots/ for people to look at."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import assert_not_blank
from workbench.accounts.services import annotator_create
from workbench.guidelines.services import guideline_publish
from workbench.labelstudio.server import ServerInfo
from workbench.labelstudio.types import Gateway
from workbench.projects.services import items_import_records, items_push, project_create

pytestmark = [pytest.mark.label_studio, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

V1 = "# Toxicity policy v1\n\nCriticism of public figures is not toxic."
V2 = "# Toxicity policy v2\n\nInsults aimed at a **named person** are toxic, public figures included."


def test_an_annotator_sees_the_current_guideline_in_the_labeling_ui(
    real_gateway: Gateway, label_studio: ServerInfo, browser_page
) -> None:  # type: ignore[no-untyped-def]
    project = project_create(name=f"guideline ui {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        items_import_records(
            project=project,
            records=[
                {"text": f"Senator Smith is a clueless fool, take {i}", "external_id": f"u{i}"}
                for i in range(3)
            ],
        )
        guideline_publish(project=project, text=V1, note="first policy", author=None)
        items_push(project=project)
        guideline_publish(project=project, text=V2, note="insults toward a named person", author=None)
        email, password = f"guide-{uuid.uuid4().hex[:6]}@workbench.local", "ui-annotator-pass-1"
        annotator_create(email=email, projects=[project], password=password)

        page = browser_page
        page.goto(f"{label_studio.url}/user/login/")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(lambda url: "/user/login" not in url)
        page.goto(f"{label_studio.url}/projects/{project.ls_id()}/data?labeling=1")
        page.get_by_text("clueless fool", exact=False).first.wait_for(timeout=60_000)
        # Shown before labeling (show_instruction) ...
        heading = page.get_by_text("Toxicity policy v2", exact=True)
        heading.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert "Toxicity policy v2" in text and "named person" in text
        assert "Toxicity policy v1" not in text
        folder = Path(settings.VAR_DIR) / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        png = page.screenshot(path=str(folder / "guideline_in_label_studio.png"), full_page=True)
        assert_not_blank(png, "the labeling UI with the guideline")
        # ... and reachable from the task once closed.
        page.keyboard.press("Escape")
        heading.wait_for(state="hidden", timeout=30_000)
        page.get_by_role("button", name="Instructions").first.click()
        heading.wait_for(timeout=30_000)
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
