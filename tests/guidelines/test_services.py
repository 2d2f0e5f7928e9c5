"""Publishing guidelines, stamping answers, per-version statistics and current-policy releases,
on the in-memory Label Studio (the end-to-end test runs the same story on the real one)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.fakes import FakeGateway
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.errors import UpstreamUnavailable, ValidationFailed
from workbench.guidelines import selectors
from workbench.guidelines.models import GuidelineVersion
from workbench.guidelines.services import guideline_html, guideline_publish
from workbench.labelstudio.types import LabelStudioError
from workbench.projects.models import Item, Project
from workbench.projects.services import items_push
from workbench.releases import services as releases
from workbench.releases.models import Release
from workbench.releases.records import FilterPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.RELEASES_DIR = tmp_path / "releases"


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    project = factories.project(annotators_per_item=2)
    factories.toxicity_items(project, 6)
    return project


def annotator(gateway: FakeGateway, n: int) -> str:
    gateway.create_user(
        email=f"ann{n}@example.test", password="pw-123456789", first_name="A", last_name=str(n)
    )
    return gateway.user_token(email=f"ann{n}@example.test", password="pw-123456789")


def label(gateway: FakeGateway, project: Project, token: str, count: int, value: str) -> list[int]:
    """Label the next ``count`` tasks of the user's queue; returns the item ids."""
    done = []
    for _ in range(count):
        task = gateway.next_task(project_id=project.ls_id(), user_token=token)
        assert task is not None
        result = [
            {"from_name": "toxicity", "to_name": "text", "type": "choices", "value": {"choices": [value]}}
        ]
        gateway.submit_annotation(task_id=task.id, result=result, lead_time=1.0, user_token=token)
        done.append(task.data["item_id"])
    return done


def build(project: Project, **policy: Any) -> Release:
    release = releases.release_create(project=project, created_by=None, policy=FilterPolicy(**policy))
    releases.release_build(release_id=release.id)
    return Release.objects.get(id=release.id)


def test_publishing_numbers_versions_and_sets_the_instructions_from_markdown(
    project: Project, fake_gateway: FakeGateway
) -> None:
    author = factories.user()
    v1 = guideline_publish(
        project=project, text="# Toxic\n\nInsults are *toxic*.", note="first", author=author
    )
    v2 = guideline_publish(
        project=project, text="# Toxic\n\nAlso public figures.", note="figures", author=None
    )
    assert (v1.version, v2.version) == (1, 2)
    assert (v1.author_name, v2.author_name) == (author.email, "system")
    assert selectors.current_version(project) == 2
    shown = fake_gateway.projects[project.ls_id()]
    assert shown.show_instruction is True
    assert shown.instructions == "<h1>Toxic</h1>\n<p>Also public figures.</p>\n"


def test_raw_html_in_a_guideline_is_escaped_not_passed_through() -> None:
    html = guideline_html('Read this <script>alert("x")</script> first')
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_empty_guideline_or_note_is_refused_and_nothing_is_recorded(project: Project) -> None:
    with pytest.raises(ValidationFailed, match="text: the guideline is empty"):
        guideline_publish(project=project, text="  \n", note="x", author=None)
    with pytest.raises(ValidationFailed, match="note: say what changed"):
        guideline_publish(project=project, text="rules", note=" ", author=None)
    assert not GuidelineVersion.objects.filter(project=project).exists()


def test_a_refused_publish_records_no_version(
    project: Project, fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: object) -> None:
        raise LabelStudioError("down", permanent=False, status=503)

    monkeypatch.setattr(fake_gateway, "set_instructions", refuse)
    with pytest.raises(UpstreamUnavailable, match="Label Studio refused guideline v1: down"):
        guideline_publish(project=project, text="rules", note="first", author=None)
    assert selectors.current_version(project) is None


def test_pushed_tasks_carry_the_version_and_publishing_restamps_only_open_tasks(
    project: Project, fake_gateway: FakeGateway
) -> None:
    items_push(project=project)  # before any guideline: no version in the data
    assert all("guideline_version" not in t.data for t in fake_gateway.tasks.values())
    guideline_publish(project=project, text="v1 rules", note="first", author=None)
    a, b = annotator(fake_gateway, 1), annotator(fake_gateway, 2)
    full = label(fake_gateway, project, a, 2, "toxic")
    label(fake_gateway, project, b, 2, "toxic")  # breadth first: the same two items, now full
    annotations_reconcile(project=project)
    v2 = guideline_publish(project=project, text="v2 rules", note="second", author=None)
    assert v2.tasks_updated == 4
    by_item = {t.data["item_id"]: t.data.get("guideline_version") for t in fake_gateway.tasks.values()}
    assert {by_item[i] for i in full} == {1}  # fully labeled: left as they were
    assert {v for i, v in by_item.items() if i not in full} == {2}
    # Data other than the stamp is kept.
    item = Item.objects.get(id=full[0])
    assert fake_gateway.tasks[item.ls_task_id].data["text"] == item.data["text"]


def test_answers_keep_the_version_they_were_made_under_and_releases_can_keep_only_the_current(
    project: Project, fake_gateway: FakeGateway
) -> None:
    guideline_publish(project=project, text="v1", note="first", author=None)
    items_push(project=project)
    a, b = annotator(fake_gateway, 1), annotator(fake_gateway, 2)
    label(fake_gateway, project, a, 3, "non-toxic")
    annotations_reconcile(project=project)
    before = build(project)
    guideline_publish(project=project, text="v2", note="insults at public figures are toxic", author=None)
    annotations_reconcile(project=project)  # re-reading v1 answers from re-stamped tasks
    label(fake_gateway, project, b, 6, "toxic")
    annotations_reconcile(project=project)

    stamps = sorted(Annotation.objects.filter(project=project).values_list("ls_user_id", "guideline_version"))
    a_id, b_id = sorted({u for u, _ in stamps})
    assert stamps == [(a_id, 1)] * 3 + [(b_id, 2)] * 6

    current = build(project, guideline_versions="current")
    everything = build(project)
    assert current.guideline_version == "v2" and current.filter_policy["guideline_version"] == 2
    assert everything.guideline_version == "v1,v2"
    assert before.guideline_version == "v1"
    assert current.record_count == 6
    datasheet = (releases.release_folder(current) / "DATASHEET.md").read_text(encoding="utf-8")
    assert "Only answers made under guideline v2 count." in datasheet
    assert all(v["label"] == "toxic" and len(v["annotations"]) == 1 for v in records(current))
    # Three items have a v1 and a v2 answer, a tie that goes to toxic; all six are in.
    assert {len(r["annotations"]) for r in records(everything)} == {1, 2}
    assert {r["label"] for r in records(before)} == {"non-toxic"} and before.record_count == 3


def records(release: Release) -> list[dict[str, Any]]:
    import json

    folder = releases.release_folder(release)
    out = []
    for path in sorted(folder.glob("**/*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text().splitlines())
    return out


def test_stats_per_version_count_answers_annotators_labels_and_agreement(
    project: Project, fake_gateway: FakeGateway
) -> None:
    items_push(project=project, limit=2)  # before any guideline
    a, b = annotator(fake_gateway, 1), annotator(fake_gateway, 2)
    label(fake_gateway, project, a, 2, "toxic")
    label(fake_gateway, project, b, 2, "non-toxic")  # v-less: total disagreement
    guideline_publish(project=project, text="v1", note="first", author=None)
    items_push(project=project)
    label(fake_gateway, project, a, 4, "toxic")
    label(fake_gateway, project, b, 4, "toxic")  # v1: total agreement
    annotations_reconcile(project=project)

    none, v1 = selectors.version_stats(project)
    assert none["version"] is None and v1["version"] == 1 and v1["note"] == "first"
    assert (none["items"], none["answers"], none["annotators"]) == (2, 4, 2)
    assert none["label_counts"] == {"toxic": 2, "non-toxic": 2}
    assert none["krippendorff_alpha"] is not None and none["krippendorff_alpha"] < 0
    assert (v1["items"], v1["answers"], v1["multi_rated_items"]) == (4, 8, 4)
    assert v1["label_counts"] == {"toxic": 8, "non-toxic": 0}
    assert v1["krippendorff_alpha"] is None  # one category only: alpha is undefined


def test_a_current_policy_release_needs_a_published_guideline(project: Project) -> None:
    with pytest.raises(ValidationFailed, match="no published guideline"):
        releases.release_create(
            project=project, created_by=None, policy=FilterPolicy(guideline_versions="current")
        )
    with pytest.raises(ValidationFailed, match="guideline_versions must be one of all, current"):
        releases.release_create(
            project=project, created_by=None, policy=FilterPolicy(guideline_versions="v1")
        )


def test_the_publish_command_reads_the_file_and_names_bad_input(
    project: Project, fake_gateway: FakeGateway, tmp_path: Path
) -> None:
    path = tmp_path / "guide.md"
    path.write_text("# Rules\n\nBe kind.", encoding="utf-8")
    out = StringIO()
    call_command("publish_guideline", project.name, str(path), "--note", "first", stdout=out)
    assert "Published guideline v1" in out.getvalue()
    assert fake_gateway.projects[project.ls_id()].instructions.startswith("<h1>Rules</h1>")
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("publish_guideline", project.name, str(tmp_path / "missing.md"), "--note", "x")
    with pytest.raises(CommandError, match="No project named"):
        call_command("publish_guideline", "nope", str(path), "--note", "x")
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match="empty.md: text: the guideline is empty"):
        call_command("publish_guideline", project.name, str(empty), "--note", "x")
