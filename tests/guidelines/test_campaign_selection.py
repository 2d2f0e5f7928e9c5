"""Relabel campaigns on the in-memory Label Studio: selection by identity group, model score,
release and item ids (all given must hold), the order by the current model's disagreement with
the old label (served in that order), and the release diff that attributes relabels to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from tests.fakes import FakeGateway
from tests.guidelines.test_services import annotator, build, label
from workbench.accounts.models import Role
from workbench.annotations.services import annotations_reconcile
from workbench.audits.models import ItemIdentity
from workbench.audits.services.identity import identity_counts_refresh
from workbench.errors import ValidationFailed
from workbench.guidelines.campaigns import campaign_open, campaign_progress
from workbench.guidelines.models import GuidelineVersion, RelabelCampaign, RelabelTask
from workbench.guidelines.selection import Selection
from workbench.guidelines.services import guideline_publish
from workbench.labelstudio.types import Prediction
from workbench.projects.models import Item, ItemImport, Project
from workbench.projects.services import items_import_records, items_push
from workbench.releases import services as releases
from workbench.rounds.models import Round
from workbench.rounds.queue import queue_publish

pytestmark = pytest.mark.django_db

INSULT = "you are a stupid worthless idiot, number {}"
KIND = "what a lovely sunny garden walk, number {}"


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.RELEASES_DIR = tmp_path / "releases"


def ids_of(project: Project) -> list[int]:
    return list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    """30 items labeled under v1 by one annotator, in item order: 14 insults labeled toxic, 12
    kind texts non-toxic, then 4 insults labeled non-toxic (the policy shift's items). Release 1
    is built before the last 4 are labeled; 2 more items are imported and never labeled."""
    project = factories.project()
    texts = [INSULT.format(i) for i in range(14)] + [KIND.format(i) for i in range(14, 26)]
    texts += [INSULT.format(i) for i in range(26, 30)]
    items_import_records(
        project=project, records=[{"text": t, "external_id": f"c{n}"} for n, t in enumerate(texts)]
    )
    guideline_publish(project=project, text="v1", note="first", author=None)
    items_push(project=project)
    a = annotator(fake_gateway, 1)
    label(fake_gateway, project, a, 14, "toxic")
    label(fake_gateway, project, a, 12, "non-toxic")
    annotations_reconcile(project=project)
    build(project)  # release 1: items 0-25
    label(fake_gateway, project, a, 4, "non-toxic")
    annotations_reconcile(project=project)
    items_import_records(
        project=project, records=[{"text": KIND.format(n), "external_id": f"n{n}"} for n in (30, 31)]
    )
    ids = ids_of(project)
    for n, groups in ((26, ["female"]), (27, ["female"]), (28, ["muslim"]), (14, ["female"])):
        ItemIdentity.objects.create(
            item_id=ids[n], project=project, groups=groups, source="lexicon", rule="test"
        )
    for record in ItemImport.objects.filter(project=project):  # what the assign service does after writing
        identity_counts_refresh(item_import=record)
    return project


def v2(project: Project) -> GuidelineVersion:
    return guideline_publish(
        project=project, text="v2", note="insults toward a person are toxic", author=None
    )


def positions(project: Project, campaign: RelabelCampaign) -> list[int]:
    ids = ids_of(project)
    return [ids.index(t.item_id) for t in campaign.tasks.order_by("rank")]


def test_the_campaign_orders_the_items_the_model_disagrees_with_first_and_records_it(
    project: Project, fake_gateway: FakeGateway
) -> None:
    campaign = campaign_open(
        version=v2(project), selection=Selection(label="non-toxic"), created_by=None, seed=7
    )
    order = positions(project, campaign)
    assert sorted(order) == list(range(14, 30))
    assert set(order[:4]) == {26, 27, 28, 29}  # insults labeled non-toxic: the model disagrees
    assert campaign.ordering == "model_disagreement" and "seed 7" in campaign.ordering_note
    tasks = list(campaign.tasks.order_by("rank"))
    changes = [t.change_score for t in tasks]
    assert changes == sorted(changes, reverse=True)  # type: ignore[type-var]
    assert all(t.change_score == pytest.approx(t.model_score) for t in tasks)  # old label non-toxic: P(toxic)
    # Imported in that order: without a round's queue, Label Studio serves by task id.
    assert [t.ls_task_id for t in tasks] == sorted(t.ls_task_id for t in tasks)
    assert campaign.queue_model_version == ""
    progress = campaign_progress(campaign)
    assert [r["rank"] for r in progress["tasks"]] == list(range(16))


def test_with_a_rounds_queue_the_follow_ups_are_served_first_in_the_campaigns_order(
    project: Project, fake_gateway: FakeGateway
) -> None:
    later = ids_of(project)[30:]
    items_push(project=project, item_ids=later)
    round_ = Round.objects.create(
        project=project, number=1, status=Round.Status.DONE, trigger="api", strategy="margin", seed=1,
        model_version="workbench-round-1",
    )  # fmt: skip
    tasks_of = dict(Item.objects.filter(id__in=later).values_list("id", "ls_task_id"))
    fake_gateway.create_predictions(
        project_id=project.ls_id(),
        predictions=[Prediction(task_id=tasks_of[i], score=0.5 + n / 4) for n, i in enumerate(later)],
        model_version=round_.model_version,
    )
    fake_gateway.set_queue_order(project_id=project.ls_id(), model_version=round_.model_version)
    campaign = campaign_open(
        version=v2(project), selection=Selection(pattern="idiot"), created_by=None, seed=3
    )
    assert campaign.queue_model_version == "workbench-round-1"
    b = annotator(fake_gateway, 2)
    served = []
    while (task := fake_gateway.next_task(project_id=project.ls_id(), user_token=b)) is not None:
        served.append(task.data["item_id"])
        label(fake_gateway, project, b, 1, "toxic")
    expected = [t.item_id for t in campaign.tasks.order_by("rank")]
    assert served == expected + later


def test_selections_combine_identity_groups_scores_releases_and_item_ids(project: Project) -> None:
    version = v2(project)
    by_group = campaign_open(
        version=version, selection=Selection(identity_groups=("female", "muslim")), created_by=None, seed=1
    )
    assert sorted(positions(project, by_group)) == [14, 26, 27, 28]
    assert by_group.selection == {"identity_groups": ["female", "muslim"]}
    in_release = campaign_open(
        version=version, selection=Selection(release=1, identity_groups=("female",)), created_by=None, seed=1
    )
    assert positions(project, in_release) == [14]  # 26-27 were labeled after release 1
    everything = campaign_open(
        version=version, selection=Selection(label="non-toxic"), created_by=None, seed=5
    )
    high = campaign_open(
        version=version, selection=Selection(label="non-toxic", score_min=0.5), created_by=None, seed=5
    )
    expected = {
        t.item_id for t in everything.tasks.all() if t.model_score is not None and t.model_score >= 0.5
    }
    assert 0 < len(expected) < everything.tasks.count()
    assert {t.item_id for t in high.tasks.all()} == expected
    low = campaign_open(
        version=version, selection=Selection(label="non-toxic", score_max=0.5), created_by=None, seed=5
    )
    assert all(t.model_score is not None and t.model_score <= 0.5 for t in low.tasks.all())
    assert low.tasks.count() + high.tasks.count() >= everything.tasks.count()


def test_explicit_item_ids_may_name_unlabeled_items_which_come_back_labeled(
    project: Project, fake_gateway: FakeGateway
) -> None:
    ids = ids_of(project)
    campaign = campaign_open(
        version=v2(project), selection=Selection(item_ids=(ids[31], ids[26])), created_by=None, seed=2
    )
    tasks = list(campaign.tasks.order_by("rank"))
    assert [t.item_id for t in tasks] == [ids[26], ids[31]]  # the scored, labeled item first
    assert tasks[1].old_label is None and tasks[1].change_score is None
    b = annotator(fake_gateway, 2)
    label(fake_gateway, project, b, 2, "toxic")
    annotations_reconcile(project=project)
    counts = campaign_progress(campaign)["counts"]
    assert counts == {"queued": 0, "changed": 1, "unchanged": 0, "labeled": 1, "done": 2, "total": 2}


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (Selection(score_min=1.5), "relabel_score_min"),
        (Selection(score_min=0.8, score_max=0.2), "relabel_score_max"),
        (Selection(identity_groups=("martian",)), "relabel_identity_groups"),
        (Selection(release=9), "relabel_release"),
        (Selection(item_ids=(10**9,)), "relabel_item_ids"),
        (Selection(identity_groups=("muslim",), release=1), None),  # both hold for no item
    ],
)
def test_a_bad_or_empty_selection_is_a_400_naming_the_field_and_nothing_is_published(
    project: Project, selection: Selection, field: str | None
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        guideline_publish(project=project, text="v2", note="x", author=None, relabel=selection)
    if field is None:
        assert "found no item" in caught.value.message
    else:
        assert caught.value.message.startswith(f"{field}: ")
        assert list(caught.value.extra["fields"]) == [field]
    assert list(GuidelineVersion.objects.filter(project=project).values_list("version", flat=True)) == [1]
    assert not RelabelCampaign.objects.exists() and not RelabelTask.objects.exists()


def test_the_api_takes_every_selection_and_names_a_bad_field(project: Project) -> None:
    admin = factories.api_client(factories.user(Role.ADMIN))
    v2(project)
    url = f"/api/projects/{project.id}/guidelines/campaigns/"
    bad = admin.post(url, {"relabel_identity_groups": ["martian"]}, format="json")
    assert bad.status_code == 400 and "relabel_identity_groups" in bad.json()["message"], bad.json()
    bad = admin.post(url, {"relabel_score_min": "high"}, format="json")
    assert bad.status_code == 400 and "relabel_score_min" in str(bad.json())
    opened = admin.post(
        url,
        {"relabel_identity_groups": ["female"], "relabel_release": 1, "relabel_score_max": 1.0, "seed": 4},
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert body["selection"] == {"identity_groups": ["female"], "score_max": 1.0, "release": 1}
    assert body["ordering"] == "model_disagreement" and body["counts"]["total"] == 1
    assert body["tasks"][0]["rank"] == 0 and body["tasks"][0]["model_score"] is not None


def test_the_release_diff_attributes_relabels_to_the_campaign_that_caused_them(
    project: Project, fake_gateway: FakeGateway
) -> None:
    before = build(project)  # release 2: all 30 items under v1
    campaign = campaign_open(
        version=v2(project), selection=Selection(label="non-toxic"), created_by=None, seed=7
    )
    planted = {Item.objects.get(external_id=f"c{n}", project=project).id for n in (26, 27, 28, 29)}
    b = annotator(fake_gateway, 2)
    while (task := fake_gateway.next_task(project_id=project.ls_id(), user_token=b)) is not None:
        label(fake_gateway, project, b, 1, "toxic" if task.data["item_id"] in planted else "non-toxic")
    annotations_reconcile(project=project)
    assert campaign_progress(campaign)["counts"]["changed"] == 4
    after = build(project)  # v1 and v2 answers: a toxic/non-toxic tie goes to toxic
    summary, folder = releases.release_diff(old=before, new=after)
    name = f"campaign {campaign.id}"
    assert summary["counts"]["relabeled"] == 4
    assert summary["attribution"] == {name: {"changed": 4, "unchanged": 12, "added": 0}}
    assert summary["relabeled_unattributed"] == 0
    import json

    rows = [json.loads(line) for line in (folder / "diff.jsonl").read_text().splitlines()]
    assert {r["item_id"] for r in rows if r["attributed_to"] == name} == planted
    # The earlier diff (release 1 -> 2) has no campaign in it.
    first = releases.Release.objects.get(project=project, version=1)
    early, _ = releases.release_diff(old=first, new=before)
    assert early["attribution"] == {} and early["relabeled_unattributed"] == 0

    admin = factories.user(Role.ADMIN)
    client = factories.api_client(admin)
    api = client.get(f"/api/projects/{project.id}/releases/diff/?from={before.version}&to={after.version}")
    assert api.status_code == 200 and api.json()["attribution"][name]["changed"] == 4
    from django.test import Client

    page = Client()
    page.force_login(admin)
    html = page.get(f"/releases/projects/{project.id}/diff/?from={before.version}&to={after.version}")
    assert html.status_code == 200
    text = html.content.decode()
    assert f'data-source="{name}"' in text and "Relabels no campaign caused: 0." in text


def test_with_enough_answers_under_the_new_version_a_model_of_the_new_policy_orders_the_campaign(
    project: Project, fake_gateway: FakeGateway
) -> None:
    version = v2(project)
    records = [{"text": INSULT.format(n), "external_id": f"i{n}"} for n in range(100, 130)]
    records += [{"text": KIND.format(n), "external_id": f"k{n}"} for n in range(100, 130)]
    items_import_records(project=project, records=records)
    items_push(project=project)  # stamped v2
    b = annotator(fake_gateway, 2)
    label(fake_gateway, project, b, 2, "non-toxic")  # the two unlabeled items of the fixture
    label(fake_gateway, project, b, 30, "toxic")
    label(fake_gateway, project, b, 30, "non-toxic")
    annotations_reconcile(project=project)
    campaign = campaign_open(version=version, selection=Selection(label="non-toxic"), created_by=None, seed=7)
    assert campaign.ordering_note.startswith(
        "logistic regression on the 62 items labeled under the current version"
    )
    order = positions(project, campaign)
    assert sorted(order) == list(range(14, 30)) and set(order[:4]) == {26, 27, 28, 29}


def test_a_round_that_reorders_the_queue_keeps_the_waiting_follow_ups_first(
    project: Project, fake_gateway: FakeGateway
) -> None:
    campaign = campaign_open(
        version=v2(project), selection=Selection(pattern="idiot"), created_by=None, seed=3
    )
    b = annotator(fake_gateway, 2)
    label(fake_gateway, project, b, 1, "toxic")  # the first follow-up is answered
    annotations_reconcile(project=project)
    later = ids_of(project)[30:]
    queue_publish(
        project=project, ordered_item_ids=later[::-1], push_count=2, model_version="workbench-round-1"
    )
    served = []
    while (task := fake_gateway.next_task(project_id=project.ls_id(), user_token=b)) is not None:
        served.append(task.data["item_id"])
        label(fake_gateway, project, b, 1, "toxic")
    waiting = [t.item_id for t in campaign.tasks.order_by("rank")][1:]
    assert served == waiting + later[::-1]
