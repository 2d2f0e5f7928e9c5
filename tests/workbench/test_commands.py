"""Every management command, called as a person would (``call_command``) on PostgreSQL with the
in-memory Label Studio: what it prints, what it changes, and a clear error naming the argument
when one is wrong. ``start_round`` is tested in tests/rounds/test_kinds_and_command.py; the
commands that talk to Label Studio meet the real one in
tests/integration/test_multilabel_end_to_end.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from tests import factories
from tests.fakes import FakeGateway
from workbench.annotations.models import Annotation
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records
from workbench.quality.models import QualityRun
from workbench.releases.models import Release


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """Every test here: the cheap featurizer and private folders (tests/conftest.py)."""


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def pool_file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "pool.csv"
    lines = ["comment_text,id,label"] + [
        f"comment number {i},c{i},{'toxic' if i % 3 == 0 else 'non-toxic'}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


# --- import_items -------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_items_imports_a_file_and_reports_what_it_did(
    fake_gateway: FakeGateway, tmp_path: Path
) -> None:
    project = factories.project()
    path = pool_file(tmp_path, 12)
    columns = json.dumps({"text": "comment_text", "external_id": "id"})

    out = run("import_items", project.name, str(path), "--columns", columns)

    assert "12 items imported from 12 rows (0 duplicates skipped)." in out
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == sorted(
        f"c{i}" for i in range(12)
    )
    out = run("import_items", project.name, str(path), "--columns", columns)
    assert "0 items imported from 12 rows (12 duplicates skipped)." in out


@pytest.mark.django_db
def test_import_items_names_what_is_wrong(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    project = factories.project()
    path = pool_file(tmp_path, 3)
    with pytest.raises(CommandError, match="No project named 'nope'"):
        run("import_items", "nope", str(path))
    with pytest.raises(CommandError, match=re.escape(f"{tmp_path / 'missing.csv'}: no such file")):
        run("import_items", project.name, str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="--columns is not valid JSON"):
        run("import_items", project.name, str(path), "--columns", "{text:")

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine,toxic\n,toxic\n")
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_items", project.name, str(bad), stdout=io.StringIO(), stderr=stderr)
    assert re.search(r"bad\.csv: row 2, text: ", stderr.getvalue()), stderr.getvalue()
    assert not Item.objects.filter(project=project).exists()  # every row or none


# --- push_items ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_push_items_pushes_what_label_studio_lacks_up_to_the_limit(fake_gateway: FakeGateway) -> None:
    project = factories.project()
    factories.toxicity_items(project, 10)

    assert "4 items pushed to Label Studio." in run("push_items", project.name, "--limit", "4")
    assert Item.objects.filter(project=project, ls_task_id__isnull=False).count() == 4
    assert "6 items pushed to Label Studio." in run("push_items", project.name)
    assert "0 items pushed to Label Studio." in run("push_items", project.name)
    assert len(fake_gateway.tasks) == 10


@pytest.mark.django_db
def test_push_items_names_a_bad_argument(fake_gateway: FakeGateway) -> None:
    project = factories.project()
    factories.toxicity_items(project, 3)
    with pytest.raises(CommandError, match="No project named 'nope'"):
        run("push_items", "nope")
    with pytest.raises(CommandError, match="--limit"):
        run("push_items", project.name, "--limit", "many")
    with pytest.raises(CommandError, match="--limit"):
        run("push_items", project.name, "--limit", "-1")
    assert not fake_gateway.tasks


# --- simulate_annotators, reconcile_annotations, compute_quality, create_release ------------


@pytest.mark.django_db(transaction=True)  # the simulated annotators work in threads of their own
def test_the_commands_take_a_project_from_pool_to_release(
    fake_gateway: FakeGateway,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.RELEASES_DIR = tmp_path / "releases"
    project = factories.project(annotators_per_item=2)
    factories.toxicity_items(project, 8)
    run("push_items", project.name)

    out = run(
        "simulate_annotators", str(project.id), "--annotators", "2", "--error-rate", "0,0", "--seed", "4"
    )
    assert out.splitlines() == [
        "sim-annotator-1@workbench.local: 8 annotations, 0 deliberately wrong",
        "sim-annotator-2@workbench.local: 8 annotations, 0 deliberately wrong",
        "16 annotations submitted.",
    ]
    assert len(fake_gateway.annotations) == 16
    assert not Annotation.objects.filter(project=project).exists()  # the fake sends no webhooks

    out = run("reconcile_annotations", project.name)
    assert out.startswith(f"{project.name}: seen 16, created 16, updated 0"), out
    gold = dict(Item.objects.filter(project=project).values_list("id", "gold"))
    stored = Annotation.objects.filter(project=project)
    assert stored.count() == 16 and all(a.label == gold[a.item_id] for a in stored)
    assert f"{project.name}: seen 16, created 0, updated 0" in run("reconcile_annotations")

    out = run("compute_quality", project.name)
    quality = QualityRun.objects.get(project=project)
    assert out.startswith(f"run {quality.id}: done; 8 items, alpha=1.0"), out

    out = run(
        "create_release",
        project.name,
        *("--tag", "first", "--formats", "jsonl", "--split", "0.5,0.25,0.25"),
        "--include-open-label-issues",  # the label-issue finder may flag some of 8 items: keep them all
    )
    release = Release.objects.get(project=project)
    assert (release.version, release.status, release.record_count, release.tag) == (
        1,
        "published",
        8,
        "first",
    )
    assert out.startswith(f"{project.name}: release 1 published, 8 records"), out
    records = [
        json.loads(line)
        for path in (settings.RELEASES_DIR / str(project.id) / "v1").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert sorted((r["item_id"], r["label"]) for r in records) == sorted(gold.items())


@pytest.mark.django_db
def test_simulate_annotators_names_a_bad_argument(fake_gateway: FakeGateway) -> None:
    project = factories.project()
    with pytest.raises(CommandError, match="No project named or numbered 'nope'"):
        run("simulate_annotators", "nope")
    with pytest.raises(CommandError, match="--error-rate"):
        run("simulate_annotators", project.name, "--error-rate", "often")
    with pytest.raises(CommandError, match=r"Error rates must lie in \[0, 1\]"):
        run("simulate_annotators", project.name, "--error-rate", "1.5")
    with pytest.raises(CommandError, match="Give one error rate, or 2; got 3"):
        run("simulate_annotators", project.name, "--annotators", "2", "--error-rate", "0,0,0")
    with pytest.raises(CommandError, match="--annotators"):
        run("simulate_annotators", project.name, "--annotators", "0")
    with pytest.raises(CommandError, match="--max-tasks"):
        run("simulate_annotators", project.name, "--max-tasks", "-2")
    assert not fake_gateway.users  # nothing was done on the way to the error


@pytest.mark.django_db
def test_reconcile_annotations_names_an_unknown_project(fake_gateway: FakeGateway) -> None:
    factories.project()
    with pytest.raises(CommandError, match="No project named 'nope'"):
        run("reconcile_annotations", "nope")


@pytest.mark.django_db
def test_compute_quality_of_a_project_without_annotations_and_of_none(fake_gateway: FakeGateway) -> None:
    project = factories.project()
    out = run("compute_quality", str(project.id))
    quality = QualityRun.objects.get(project=project)
    assert out.strip() == f"run {quality.id}: done; 0 items, alpha=None, issues=None, consensus changes=0"
    with pytest.raises(CommandError, match="No project named or numbered 'nope'"):
        run("compute_quality", "nope")


@pytest.mark.django_db
def test_create_release_names_a_bad_argument(
    fake_gateway: FakeGateway, settings: Settings, tmp_path: Path
) -> None:
    settings.RELEASES_DIR = tmp_path / "releases"
    project = factories.project()
    with pytest.raises(CommandError, match="No project named 'nope'"):
        run("create_release", "nope")
    with pytest.raises(CommandError, match="No user with e-mail 'who@example.test'"):
        run("create_release", project.name, "--user", "who@example.test")
    with pytest.raises(CommandError, match="--split takes three numbers"):
        run("create_release", project.name, "--split", "0.8,0.2")
    with pytest.raises(CommandError, match="--min-quality"):
        run("create_release", project.name, "--min-quality", "high")
    with pytest.raises(CommandError, match="xml"):
        run("create_release", project.name, "--formats", "jsonl,xml")
    with pytest.raises(CommandError, match="tag must be at most 100 characters; got 101"):
        run("create_release", project.name, "--tag", "x" * 101)
    with pytest.raises(CommandError, match=r"min_annotators must be an integer in \[1, 2147483647\]; got 0"):
        run("create_release", project.name, "--min-annotators", "0")
    assert not Release.objects.filter(project=project).exists()


# --- demo_setup ---------------------------------------------------------------------------


# transaction=True: the simulated annotators work in threads, each with its own connection,
# which must see the demo's committed items.
@pytest.mark.django_db(transaction=True)
def test_demo_setup_builds_the_demo_once_and_reuses_it(
    fake_gateway: FakeGateway, settings: Settings, tmp_path: Path
) -> None:
    from workbench.rounds.models import Round

    settings.VAR_DIR = tmp_path
    first = run("demo_setup")
    project = Project.objects.get(name="Demo: toxicity (binary)")
    assert "Imported 60 demo items." in first
    assert f"http://label-studio.test/projects/{project.ls_project_id}/" in first
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert f"annotator@workbench.local / {credentials['annotator_password']}" in first
    assert f"admin@workbench.local / {credentials['admin_password']}" in first
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o777 == 0o600
    # The loop ran: the rounds pushed batches (not the whole pool), annotators labeled them.
    assert "The loop:" in first and f"/rounds/projects/{project.id}/" in first
    assert 0 < len(fake_gateway.tasks) < 60
    counts = (Annotation.objects.count(), Round.objects.count(), Release.objects.count())
    assert counts[0] > 0 and counts[1] >= 2 and counts[2] == 1

    second = run("demo_setup")
    assert "Imported" not in second
    assert f"admin@workbench.local / {credentials['admin_password']}" in second
    assert Project.objects.count() == 1 and Item.objects.filter(project=project).count() == 60
    assert (Annotation.objects.count(), Round.objects.count(), Release.objects.count()) == counts


@pytest.mark.django_db(transaction=True)  # the simulated annotator works in a thread of its own
def test_simulate_annotators_can_play_a_first_shown_picker_on_a_preference_project(
    fake_gateway: FakeGateway,
) -> None:
    project = factories.project("preference")
    pairs = [
        {"prompt": f"p{i}", "response_a": f"a{i}", "response_b": f"b{i}", "label": "A"} for i in range(20)
    ]
    items_import_records(project=project, records=pairs)
    run("push_items", project.name)
    out = run("simulate_annotators", project.name, "--annotators", "1", "--first-shown-rate", "1")
    assert out.splitlines()[-1] == "20 annotations submitted."
    run("reconcile_annotations", project.name)
    sides = dict(Item.objects.filter(project=project).values_list("id", "sides"))
    stored = Annotation.objects.filter(project=project)
    assert stored.count() == 20 and all(a.label == ("A" if sides[a.item_id] == "ab" else "B") for a in stored)
    with pytest.raises(CommandError, match="First-shown rates must lie in"):
        run("simulate_annotators", project.name, "--first-shown-rate", "2")
    with pytest.raises(CommandError, match="--first-shown-rate is for preference projects"):
        run("simulate_annotators", factories.project().name, "--first-shown-rate", "1")
