"""The safety-audit pages: who may open them (Django's test client), and, in a real headless
Chromium, an ML engineer who is a member sees the drift verdict of the last import, runs a
round's fairness audit, sees its plot with pixels and the model card, and the flagged annotators."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.browser import assert_not_blank
from tests.pages.test_browser import wait_for_image
from tests.safety_audits.helpers import biased_annotations, identity_records, model_round
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.audits.services.identity import audit_settings_update
from workbench.audits.services.labels import label_audit_run
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, project_member_add

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_annotators_are_refused_and_strangers_see_nothing(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project(owner=owner)
    items_import_records(project=project, records=identity_records(150))
    round_ = model_round(project, list(Item.objects.filter(project=project).order_by("id")))
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)
    stranger = factories.user(Role.ML_ENGINEER)
    admin = factories.user(Role.ADMIN)
    pages = [
        f"/audits/projects/{project.id}/",
        f"/audits/projects/{project.id}/rounds/{round_.id}/",
    ]
    for url in pages:
        assert signed_in(owner).get(url).status_code == 200, url
        assert signed_in(admin).get(url).status_code == 200, url
        assert signed_in(annotator).get(url).status_code == 403, url
        assert signed_in(stranger).get(url).status_code == 404, url
        assert Client().get(url).status_code == 302, url  # to the sign-in page
    run = f"/audits/projects/{project.id}/rounds/{round_.id}/run/"
    assert signed_in(annotator).post(run).status_code == 403
    assert signed_in(owner).get(run).status_code == 405  # a run is a POST
    assert signed_in(owner).get(f"{pages[1]}model-card.md").status_code == 404  # not audited yet


@pytest.mark.browser
def test_an_ml_engineer_sees_drift_fairness_with_its_plot_the_model_card_and_flagged_annotators(
    browser_page, live_server, fake_gateway
) -> None:  # type: ignore[no-untyped-def]
    engineer = user_create(email="safety@example.test", role=Role.ML_ENGINEER, password="s3cret-pass")
    project = factories.project(owner=engineer)
    audit_settings_update(project=project, min_count=3)
    items_import_records(project=project, records=identity_records(200))
    items = list(Item.objects.filter(project=project).order_by("id"))
    round_ = model_round(project, items)
    items_import_records(project=project, records=identity_records(60, seed=4, start=200))
    biased = factories.project(owner=engineer)
    items_import_records(project=biased, records=identity_records(200))
    biased_annotations(list(Item.objects.filter(project=biased).order_by("id")))
    label_audit_run(project=biased)

    page = browser_page
    base = f"{live_server.url}/audits/projects/{project.id}/"
    page.goto(base)
    page.fill("input[name=username]", "safety@example.test")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("#login button")
    page.wait_for_url(base)
    assert page.locator("#drift-last .verdict").inner_text() in (
        "no shift",
        "inputs shifted",
        "labels shifted",
    )
    assert "classifier two-sample AUC" in page.locator("#drift-summary").inner_text()
    assert page.locator("#identity-counts tr[data-group='muslim'] td.num").inner_text() == "52"
    assert "not audited yet" in page.locator(f"#fairness-rounds tr[data-round='{round_.id}']").inner_text()

    page.click(f"#fairness-rounds tr[data-round='{round_.id}'] a")
    page.wait_for_selector("#not-audited")
    page.click("#audit-form button")
    page.wait_for_selector("#fairness-plot")
    wait_for_image(page, "#fairness-plot")
    assert_not_blank(page.locator("#fairness-plot").screenshot(), "per-group AUC plot")
    assert page.locator("#fairness tr[data-group]").count() == 4
    assert "Model card:" in page.locator("#model-card h1").inner_text()
    assert page.locator("#model-card h2").count() >= 8  # Mitchell et al.'s sections
    with page.expect_download() as download:
        page.click("#model-card-download")
    assert download.value.suggested_filename == f"model-card-round-{round_.number}.md"

    page.goto(f"{live_server.url}/audits/projects/{biased.id}/")
    flagged = page.locator("#flagged tr.flagged")
    assert flagged.count() == 1
    assert "ls-user-3003" in flagged.inner_text() and "homosexual_gay_or_lesbian" in flagged.inner_text()


def test_a_cold_start_round_cannot_be_audited_and_the_page_says_why(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from workbench.rounds.services import round_run, round_start

    owner = factories.user(Role.ML_ENGINEER)
    project = factories.project(owner=owner)
    items_import_records(project=project, records=identity_records(30))
    round_ = round_start(project=project, trigger="command", strategy="seed_keyword", batch_size=5, seed=1)
    round_run(round_id=round_.id)
    response = signed_in(owner).post(f"/audits/projects/{project.id}/rounds/{round_.id}/run/")
    assert response.status_code == 400
    assert "stored no validation scores" in response.content.decode()
    api = factories.api_client(owner).post(f"/api/projects/{project.id}/audits/rounds/{round_.id}/fairness/")
    assert api.status_code == 400 and "stored no validation scores" in api.json()["message"]


def test_the_admin_lists_every_audit_record(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from workbench.audits.models import DriftCheck, ItemIdentity

    project = factories.project()
    items_import_records(project=project, records=identity_records(20))
    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
    client = signed_in(root)
    for model in ("auditsettings", "itemidentity", "fairnessaudit", "labelaudit", "driftcheck"):
        assert client.get(f"/admin/safety_audits/{model}/").status_code == 200, model
    identity = ItemIdentity.objects.filter(project=project).first()
    assert identity is not None
    assert client.get(f"/admin/safety_audits/itemidentity/{identity.pk}/change/").status_code == 200
    check = DriftCheck.objects.get(project=project)
    assert client.get(f"/admin/safety_audits/driftcheck/{check.pk}/change/").status_code == 200
