"""Randomised sides end to end through the real Label Studio (issue 11): the tasks show the
pair as Response 1 / Response 2 in the item's recorded order, an annotator who always picks the
first-shown response yields stored labels spread over A and B (mapped back with the item's
order) and is flagged by the quality run, and an annotator in a real Chromium sees
"Response 1" / "Response 2" and their click is stored about the item's own responses."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from scipy.stats import binomtest

from tests.browser import CHROMIUM, FLAGS, VIEWPORT, require_chromium
from workbench.accounts.services import annotator_create
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import SimulatedAnnotator, simulate
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push, project_create
from workbench.quality.models import AnnotatorQuality
from workbench.quality.services import quality_compute

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


def pairs(n: int) -> list[dict[str, str]]:
    """Responses whose texts say which side they are, so a page shows which came first."""
    return [
        {
            "prompt": f"Question {i:03d}: which answer is better?",
            "response_a": f"Alpha answer number {i:03d}",
            "response_b": f"Beta answer number {i:03d}",
            "label": "A" if i % 2 == 0 else "B",
            "external_id": f"pair-{i}",
        }
        for i in range(n)
    ]


def test_a_first_shown_picker_yields_labels_over_a_and_b_and_is_flagged(
    real_gateway, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    project = project_create(
        name=f"sides e2e {uuid.uuid4().hex[:8]}", kind="preference", annotators_per_item=2
    )
    try:
        items_import_records(project=project, records=pairs(40))
        items_push(project=project)
        lefty = SimulatedAnnotator(f"lefty-{uuid.uuid4().hex[:6]}@workbench.local", 0.0, first_shown_rate=1.0)
        honest = SimulatedAnnotator(f"honest-{uuid.uuid4().hex[:6]}@workbench.local", 0.0)
        assert simulate(project=project, annotators=[lefty, honest], seed=3).total == 80
        annotations_reconcile(project=project)

        items = {i.id: i for i in Item.objects.filter(project=project)}
        shown = {
            a.task_data["item_id"]: a.task_data
            for a in real_gateway.iter_annotations(project_id=project.ls_id())
        }
        for item_id, data in shown.items():
            item = items[item_id]
            first = item.data["response_a"] if item.sides == "ab" else item.data["response_b"]
            assert (data["sides"], data["response_1"]) == (item.sides, first)
        mine = dict(
            Annotation.objects.filter(project=project, annotator__username=lefty.email).values_list(
                "item_id", "label"
            )
        )
        assert len(mine) == 40
        assert all(label == ("A" if items[i].sides == "ab" else "B") for i, label in mine.items())
        counts = Counter(mine.values())
        assert counts["A"] >= 8 and counts["B"] >= 8, counts
        theirs = Annotation.objects.filter(project=project, annotator__username=honest.email)
        assert all(a.label == items[a.item_id].gold for a in theirs)

        run = quality_compute(project=project)
        assert run.status == "done", run.error
        flagged = AnnotatorQuality.objects.get(project=project, annotator__username=lefty.email)
        assert flagged.flagged and any("first-shown response in 40 of 40" in f for f in flagged.flags)
        audit = {r["ls_user_id"]: r for r in run.summary["preference_audit"]["annotators"]}
        row = AnnotatorQuality.objects.get(project=project, annotator__username=honest.email)
        first = audit[row.ls_user_id]["first_shown"]
        # An honest annotator is flagged exactly when the binomial test rejects at the audit's level.
        verdict = bool(
            binomtest(first["k"], first["n"], 0.5).pvalue < run.summary["preference_audit"]["alpha"]
        )
        assert any("first-shown" in f for f in row.flags) is verdict
    finally:
        real_gateway.delete_project(project_id=project.ls_id())


@pytest.mark.browser
def test_an_annotator_sees_response_1_and_2_and_their_click_is_stored_about_a_and_b(
    real_gateway, label_studio, live_server, settings, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    require_chromium()
    settings.PUBLIC_URL = live_server.url
    project = project_create(name=f"sides ui {uuid.uuid4().hex[:8]}", kind="preference")
    try:
        items_import_records(project=project, records=pairs(4))
        items_push(project=project)
        email, password = f"ui-{uuid.uuid4().hex[:6]}@workbench.local", "ui-annotator-pass-1"
        annotator_create(email=email, projects=[project], password=password)
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{label_studio.url}/user/login/")
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(lambda url: "/user/login" not in url)
            page.goto(f"{label_studio.url}/projects/{project.ls_id()}/data?labeling=1")
            page.get_by_text("Response 2", exact=True).wait_for(timeout=60_000)
            page.get_by_text("answer number", exact=False).first.wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "preference_labeling.png"), full_page=True)
            text = page.inner_text("body")
            number = next(i for i in range(4) if f"answer number {i:03d}" in text)
            item = Item.objects.get(project=project, external_id=f"pair-{number}")
            first, second = (
                (item.data["response_a"], item.data["response_b"])
                if item.sides == "ab"
                else (item.data["response_b"], item.data["response_a"])
            )
            assert (
                text.index("Response 1") < text.index(first) < text.index("Response 2") < text.index(second)
            )
            assert "Response A" not in text and "Response B" not in text
            page.keyboard.press("1")  # the config's hotkey of choice "1": the first-shown response
            with page.expect_response(
                lambda r: "/annotations" in r.url and r.request.method == "POST", timeout=60_000
            ) as submitted:
                page.get_by_test_id("bottombar-submit-button").click()
            assert submitted.value.status == 201, submitted.value.text()
            browser.close()
        assert (tmp_path / "preference_labeling.png").stat().st_size > 10_000
        annotations_reconcile(project=project)
        stored = Annotation.objects.get(project=project, item=item)
        assert stored.label == ("A" if item.sides == "ab" else "B")  # "1" was the first-shown response
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
