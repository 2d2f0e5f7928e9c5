"""A policy shift end to end through the real Label Studio on PostgreSQL: publish guideline v1,
push, simulated annotators label some items, publish v2 (under which every insult aimed at a
named person is toxic), they label the rest under it. Every stored answer carries the version
it was made under, Label Studio shows the v2 text as the project's instructions, a release
under the current policy holds only the v2 answers and the release built before v2 is unchanged."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from workbench.annotations.models import Annotation
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.guidelines.campaigns import campaign_open, campaign_progress
from workbench.guidelines.models import RelabelCampaign
from workbench.guidelines.selection import Selection
from workbench.guidelines.services import guideline_html, guideline_publish
from workbench.labelstudio.server import ServerInfo
from workbench.labelstudio.types import Gateway
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, project_create
from workbench.releases.models import Release
from workbench.rounds.models import Round
from workbench.rounds.queue import queue_publish

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]

RULE = "# Toxicity\n\nLabel a comment **toxic** when it attacks someone."
V1 = RULE + " Criticism of public figures is not toxic."
V2 = RULE + "\n\n- Insults aimed at a named person are toxic."


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def records(settings: Settings, release: Release) -> list[dict[str, object]]:
    folder = Path(settings.RELEASES_DIR) / str(release.project_id) / f"v{release.version}"
    return [
        json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text().splitlines()
    ]


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """The cheap featurizer and private folders (tests/conftest.py)."""


def test_a_policy_shift_stamps_answers_and_a_current_policy_release_holds_only_v2_labels(
    real_gateway: Gateway,
    label_studio: ServerInfo,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.PUBLIC_URL = live_server.url  # webhooks reach this test's workbench
    project = project_create(name=f"test guidelines {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        # Insults at named people: not toxic under v1 (the gold the simulated annotators follow).
        names = ["Senator Smith", "Mayor Jones", "Judge Brown", "Governor Lee"] * 2
        items_import_records(
            project=project,
            records=[
                {"text": f"{name} is a clueless fool, take {i}", "external_id": f"g{i}", "label": "non-toxic"}
                for i, name in enumerate(names)
            ],
        )
        (tmp_path / "v1.md").write_text(V1, encoding="utf-8")
        (tmp_path / "v2.md").write_text(V2, encoding="utf-8")
        assert "Published guideline v1" in run(
            "publish_guideline", project.name, str(tmp_path / "v1.md"), "--note", "first policy"
        )
        assert "8 items pushed to Label Studio." in run("push_items", project.name)
        tasks = list(real_gateway.iter_tasks(project_id=project.ls_id()))
        assert [t.data["guideline_version"] for t in tasks] == [1] * 8

        # One annotator first, so exactly four items are labeled under v1 (two working side by
        # side may both be handed one task: Label Studio's queue lock is not exclusive).
        annotators = simulated_annotators(2, [0.0])
        report = simulate(project=project, annotators=annotators[:1], max_tasks_per_annotator=4, seed=3)
        assert report.total == 4
        run("reconcile_annotations", project.name)
        v1_items = set(Annotation.objects.filter(project=project).values_list("item_id", flat=True))
        assert len(v1_items) == 4
        run("create_release", project.name, "--formats", "jsonl")
        before = Release.objects.get(project=project, version=1)
        before_records, before_sha = records(settings, before), before.manifest_sha256
        assert before.guideline_version == "v1" and before.record_count == 4

        out = run(
            "publish_guideline", project.name, str(tmp_path / "v2.md"), "--note", "insults at named people"
        )
        assert "Published guideline v2 of" in out and "4 open task(s) now carry it" in out
        # The open tasks carry v2 now; the labeled ones keep v1.
        stamps = {
            t.data["item_id"]: t.data["guideline_version"]
            for t in real_gateway.iter_tasks(project_id=project.ls_id())
        }
        assert {i for i, v in stamps.items() if v == 1} == v1_items
        assert {i for i, v in stamps.items() if v == 2} == set(stamps) - v1_items
        # What annotators see: the v2 text, read back from Label Studio's own API.
        shown = httpx.get(
            f"{label_studio.url}/api/projects/{project.ls_id()}/",
            headers={"Authorization": f"Token {label_studio.token}"},
        ).json()
        assert shown["expert_instruction"] == guideline_html(V2) and shown["show_instruction"] is True
        assert "Insults aimed at a named person are toxic" in shown["expert_instruction"]

        Item.objects.filter(project=project).update(gold="toxic")  # the annotators follow v2
        report = simulate(project=project, annotators=annotators, seed=3)
        assert report.total >= 4
        run("reconcile_annotations", project.name)

        stored = list(
            Annotation.objects.filter(project=project).values_list("item_id", "guideline_version", "label")
        )
        assert len(stored) == 4 + report.total and {i for i, _, _ in stored} == set(stamps)
        assert sorted(s for s in stored if s[0] in v1_items) == sorted((i, 1, "non-toxic") for i in v1_items)
        assert {(v, label) for i, v, label in stored if i not in v1_items} == {(2, "toxic")}

        run("create_release", project.name, "--formats", "jsonl", "--guideline-versions", "current")
        current = Release.objects.get(project=project, version=2)
        assert current.guideline_version == "v2" and current.filter_policy["guideline_version"] == 2
        got = records(settings, current)
        assert {r["item_id"] for r in got} == set(stamps) - v1_items
        assert {r["label"] for r in got} == {"toxic"}
        # The release built before v2 is unchanged.
        before.refresh_from_db()
        assert records(settings, before) == before_records and before.record_count == 4
        assert before.manifest_sha256 == before_sha and before.guideline_version == "v1"
        assert {r["label"] for r in before_records} == {"non-toxic"}
    finally:
        real_gateway.delete_project(project_id=project.ls_id())


def test_a_relabel_campaign_runs_through_label_studio_and_its_answers_follow_the_new_policy(
    real_gateway: Gateway,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.PUBLIC_URL = live_server.url
    project = project_create(name=f"test relabel {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        names = ["Senator Smith", "a stranger", "Mayor Jones", "someone", "Judge Brown", "nobody"]
        items_import_records(
            project=project,
            records=[
                {"text": f"{name} is a clueless fool, take {i}", "external_id": f"r{i}", "label": "non-toxic"}
                for i, name in enumerate(names)
            ],
        )
        (tmp_path / "v1.md").write_text(V1, encoding="utf-8")
        (tmp_path / "v2.md").write_text(V2, encoding="utf-8")
        run("publish_guideline", project.name, str(tmp_path / "v1.md"), "--note", "first policy")
        run("push_items", project.name)
        annotators = simulated_annotators(2, [0.0])
        assert simulate(project=project, annotators=annotators[:1], seed=5).total == 6
        run("reconcile_annotations", project.name)

        out = run(
            "publish_guideline",
            project.name,
            str(tmp_path / "v2.md"),
            "--note",
            "insults at named people",
            "--relabel-label",
            "non-toxic",
            "--relabel-pattern",
            "Senator|Mayor|Judge",
        )
        assert "Relabel campaign" in out and "3 item(s) queued" in out, out
        campaign = RelabelCampaign.objects.get(version__project=project)
        named = {
            i.id
            for i in Item.objects.filter(project=project)
            if i.data["text"].split(" is ")[0] in names[::2]
        }
        assert {t.item_id for t in campaign.tasks.all()} == named
        assert campaign_progress(campaign)["counts"]["queued"] == 3

        Item.objects.filter(id__in=named).update(gold="toxic")  # what v2 says of them
        # Another annotator takes the follow-ups (one only: two side by side may both be handed
        # a task), the only tasks open.
        assert simulate(project=project, annotators=annotators[1:], seed=5).total == 3
        run("reconcile_annotations", project.name)

        progress = campaign_progress(campaign)
        assert progress["counts"] == {
            "queued": 0,
            "changed": 3,
            "unchanged": 0,
            "labeled": 0,
            "done": 3,
            "total": 3,
        }
        assert {t["new_label"] for t in progress["tasks"]} == {"toxic"}
        run("create_release", project.name, "--formats", "jsonl", "--guideline-versions", "current")
        current = Release.objects.get(project=project, version=1)
        got = records(settings, current)
        assert {r["item_id"] for r in got} == named and {r["label"] for r in got} == {"toxic"}
        assert current.guideline_version == "v2"
        assert all(len(r["annotations"]) == 1 for r in got)  # the v2 answer only, not the v1 one
    finally:
        real_gateway.delete_project(project_id=project.ls_id())


def test_label_studio_serves_a_campaign_in_its_order_ahead_of_a_rounds_queue(
    real_gateway: Gateway, live_server: LiveServer, settings: Settings
) -> None:
    settings.PUBLIC_URL = live_server.url
    project = project_create(name=f"test relabel order {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        texts = [
            f"{name} is a clueless fool, take {i}"
            for i, name in enumerate(["Senator Smith", "Judge Brown"] * 2)
        ]
        texts += [f"a calm and friendly remark, take {i}" for i in range(4, 8)]
        records_ = [
            {"text": t, "external_id": f"q{i}", "label": "toxic" if i < 4 else "non-toxic"}
            for i, t in enumerate(texts)
        ]
        items_import_records(project=project, records=records_)
        guideline_publish(project=project, text=V1, note="first policy", author=None)
        run("push_items", project.name)
        annotators = simulated_annotators(2, [0.0])
        assert simulate(project=project, annotators=annotators[:1], seed=7).total == 8
        run("reconcile_annotations", project.name)
        # A round's queue in force over two newer items (what round_run publishes).
        items_import_records(
            project=project,
            records=[
                {"text": f"an open comment {i}", "external_id": f"o{i}", "label": "non-toxic"} for i in (0, 1)
            ],
        )
        later = list(Item.objects.filter(project=project, external_id__in=["o1", "o0"]).order_by("-id"))
        queue_publish(
            project=project,
            ordered_item_ids=[i.id for i in later],
            push_count=2,
            model_version="workbench-round-1",
        )
        Round.objects.create(
            project=project, number=1, status=Round.Status.DONE, trigger="api", strategy="random", seed=1,
            model_version="workbench-round-1",
        )  # fmt: skip

        version = guideline_publish(project=project, text=V2, note="insults at named people", author=None)
        campaign = campaign_open(version=version, selection=Selection(), created_by=None, seed=11)
        assert (
            campaign.queue_model_version == "workbench-round-1" and campaign.ordering == "model_disagreement"
        )
        ranked = [t.item_id for t in campaign.tasks.order_by("rank")]
        assert sorted(ranked) == sorted(
            Item.objects.filter(project=project, external_id__startswith="q").values_list("id", flat=True)
        )

        assert simulate(project=project, annotators=annotators[1:], seed=7).total == 10
        run("reconcile_annotations", project.name)
        served = list(
            Annotation.objects.filter(project=project, annotator__username=annotators[1].email)
            .order_by("ls_annotation_id")
            .values_list("item_id", flat=True)
        )
        assert served == ranked + [i.id for i in later]
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
