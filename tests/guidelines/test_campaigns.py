"""Relabel campaigns on the in-memory Label Studio: selection by label and regex, follow-up tasks
under the new version, and progress (queued / changed / unchanged) read from the answers."""

from __future__ import annotations

import pytest

from tests import factories
from tests.fakes import FakeGateway
from tests.guidelines.test_services import annotator, label
from workbench.accounts.models import Role
from workbench.annotations.services import annotations_reconcile
from workbench.errors import ValidationFailed
from workbench.guidelines import selectors
from workbench.guidelines.campaigns import campaign_progress
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign
from workbench.guidelines.selection import Selection
from workbench.guidelines.services import guideline_publish
from workbench.projects.models import Item, Project
from workbench.projects.services import items_push, project_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    """Six items labeled under v1 by one annotator: texts 0-2 toxic, 3-5 non-toxic."""
    project = factories.project()
    factories.toxicity_items(project, 6)
    guideline_publish(project=project, text="v1", note="first", author=None)
    items_push(project=project)
    a = annotator(fake_gateway, 1)
    label(fake_gateway, project, a, 3, "toxic")
    label(fake_gateway, project, a, 3, "non-toxic")
    annotations_reconcile(project=project)
    return project


def text_of(item_id: int) -> str:
    return str(Item.objects.get(id=item_id).data["text"])


def test_publishing_opens_a_campaign_over_older_answers_of_a_label_and_tracks_it(
    project: Project, fake_gateway: FakeGateway
) -> None:
    own_tasks = dict(Item.objects.filter(project=project).values_list("id", "ls_task_id"))
    v2 = guideline_publish(
        project=project, text="v2", note="insults count", author=None, relabel=Selection(label="non-toxic")
    )
    (campaign,) = RelabelCampaign.objects.filter(version=v2)
    progress = campaign_progress(campaign)
    assert sorted(text_of(t["item_id"]) for t in progress["tasks"]) == [
        f"comment number {i}" for i in (3, 4, 5)
    ]
    assert progress["counts"] == {
        "queued": 3,
        "changed": 0,
        "unchanged": 0,
        "labeled": 0,
        "done": 0,
        "total": 3,
    }
    follow_ups = [t for t in fake_gateway.tasks.values() if t.data.get("relabel_campaign") == campaign.id]
    assert len(follow_ups) == 3 and {t.data["guideline_version"] for t in follow_ups} == {2}

    b = annotator(fake_gateway, 2)
    label(fake_gateway, project, b, 2, "toxic")
    label(fake_gateway, project, b, 1, "non-toxic")
    annotations_reconcile(project=project)
    progress = campaign_progress(campaign)
    assert progress["counts"] == {
        "queued": 0,
        "changed": 2,
        "unchanged": 1,
        "labeled": 0,
        "done": 3,
        "total": 3,
    }
    assert {t["status"]: t["new_label"] for t in progress["tasks"] if t["status"] == "unchanged"} == {
        "unchanged": "non-toxic"
    }
    # The answers count for the items; the items keep their own tasks.
    assert dict(Item.objects.filter(project=project).values_list("id", "ls_task_id")) == own_tasks
    v2_stats = [s for s in selectors.version_stats(project) if s["version"] == 2][0]
    assert v2_stats["answers"] == 3


def test_a_bad_selection_is_refused_before_anything_is_published(project: Project) -> None:
    with pytest.raises(ValidationFailed, match="relabel_pattern: not a valid regular expression"):
        guideline_publish(project=project, text="v2", note="x", author=None, relabel=Selection(pattern="("))
    with pytest.raises(ValidationFailed, match="relabel_label: 'rude' is not a label"):
        guideline_publish(project=project, text="v2", note="x", author=None, relabel=Selection(label="rude"))
    with pytest.raises(ValidationFailed, match="found no item"):
        guideline_publish(
            project=project, text="v2", note="x", author=None, relabel=Selection(pattern="no such text")
        )
    assert list(GuidelineVersion.objects.filter(project=project).values_list("version", flat=True)) == [1]
    assert not RelabelCampaign.objects.exists()


def test_the_api_opens_a_campaign_by_regex_and_guards_it(project: Project) -> None:
    admin = factories.api_client(factories.user(Role.ADMIN))
    assert (
        admin.post(
            f"/api/projects/{project.id}/guidelines/", {"text": "v2", "note": "second"}, format="json"
        ).status_code
        == 201
    )
    url = f"/api/projects/{project.id}/guidelines/campaigns/"
    opened = admin.post(url, {"relabel_pattern": r"number [02]$"}, format="json")
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert body["guideline_version"] == 2 and body["counts"]["queued"] == 2
    assert sorted(text_of(t["item_id"]) for t in body["tasks"]) == ["comment number 0", "comment number 2"]
    assert admin.post(url, {"relabel_pattern": "("}, format="json").status_code == 400

    engineer, annotator_user, stranger = (
        factories.user(Role.ML_ENGINEER),
        factories.user(Role.ANNOTATOR),
        factories.user(Role.ML_ENGINEER),
    )
    for member in (engineer, annotator_user):
        project_member_add(project=project, user=member)
    detail = f"{url}{body['id']}/"
    assert factories.api_client(engineer).get(detail).json()["counts"]["total"] == 2
    assert [c["id"] for c in factories.api_client(engineer).get(url).json()] == [body["id"]]
    assert (
        factories.api_client(engineer).post(url, {"relabel_pattern": "x"}, format="json").status_code == 403
    )
    assert factories.api_client(annotator_user).get(detail).status_code == 403
    assert factories.api_client(stranger).get(detail).status_code == 404
    assert admin.get(f"{url}999999/").status_code == 404
