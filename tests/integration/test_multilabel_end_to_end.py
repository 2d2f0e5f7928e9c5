"""A toxicity_multilabel project end to end through the real Label Studio, driven by the
management commands as a person would run them: import Jigsaw rows, push, simulated annotators,
webhooks to the live workbench, reconciliation, a quality run and a release. The label *sets*
must arrive intact at every step (Label Studio's result -> the annotation -> the release record).

This is also the real-Label-Studio run of the commands that talk to it (import_items, push_items,
simulate_annotators, reconcile_annotations, compute_quality, create_release, and demo_setup below);
their fake-gateway tests are in tests/workbench/test_commands.py."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from workbench.annotations.models import Annotation
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.kinds import JIGSAW_LABELS
from workbench.projects.models import Item, Project
from workbench.projects.services import project_create
from workbench.releases.models import Release

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def jigsaw_mix(path: Path) -> list[dict[str, str]]:
    """Real Jigsaw rows: six with two or more labels, three with one, three with none."""
    wanted = {"many": 6, "one": 3, "none": 3}
    chosen: list[dict[str, str]] = []
    with open(DATA / "jigsaw_toxic_sample.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            n = sum(row[label] == "1" for label in JIGSAW_LABELS)
            group = "none" if n == 0 else "one" if n == 1 else "many"
            if wanted[group]:
                wanted[group] -= 1
                chosen.append(row)
    assert not any(wanted.values()), wanted
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "comment_text", *JIGSAW_LABELS])
        writer.writeheader()
        writer.writerows({k: row[k] for k in writer.fieldnames} for row in chosen)
    return chosen


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """Every test here: the cheap featurizer and private folders (tests/conftest.py)."""


def test_a_multilabel_project_keeps_its_label_sets_from_label_studio_to_the_release(
    real_gateway: Gateway,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.PUBLIC_URL = live_server.url  # Label Studio delivers webhooks to this test's workbench
    project = project_create(
        name=f"test multilabel {uuid.uuid4().hex[:8]}", kind="toxicity_multilabel", annotators_per_item=2
    )
    try:
        rows = jigsaw_mix(tmp_path / "jigsaw.csv")
        columns = json.dumps({"text": "comment_text", "external_id": "id"})

        out = run("import_items", project.name, str(tmp_path / "jigsaw.csv"), "--columns", columns)
        assert "12 items imported from 12 rows" in out
        items = {item.external_id: item for item in Item.objects.filter(project=project)}
        for row in rows:
            assert items[row["id"]].gold == [label for label in JIGSAW_LABELS if row[label] == "1"]

        assert "12 items pushed to Label Studio." in run("push_items", project.name)

        out = run(
            "simulate_annotators", project.name, "--annotators", "2", "--error-rate", "0,0.5", "--seed", "7"
        )
        assert out.splitlines()[0] == "sim-annotator-1@workbench.local: 12 annotations, 0 deliberately wrong"
        assert re.match(
            r"sim-annotator-2@workbench\.local: 12 annotations, [1-9]\d* deliberately wrong",
            out.splitlines()[1],
        )
        assert out.splitlines()[2] == "24 annotations submitted."

        # Whatever a webhook may have missed, reconciliation brings in; then we hold what Label Studio holds.
        out = run("reconcile_annotations", project.name)
        assert out.startswith(f"{project.name}: seen 24, "), out
        interface = kinds.interface(project.kind)
        held = {a.id: a for a in real_gateway.iter_annotations(project_id=project.ls_project_id)}
        ours = {
            a.ls_annotation_id: a for a in Annotation.objects.filter(project=project).select_related("item")
        }
        assert ours.keys() == held.keys() and len(held) == 24
        several = 0
        for ls_id, ls in held.items():
            choices = [c for region in ls.result for c in region["value"]["choices"]]
            assert ours[ls_id].label == list(interface.label_from(ls.result))  # type: ignore[arg-type]
            assert sorted(ours[ls_id].label) == sorted(choices)
            several += len(choices) >= 2
        assert several >= 6  # the label sets, not just one label of each, came through
        perfect = Annotation.objects.filter(
            project=project, annotator__email="sim-annotator-1@workbench.local"
        )
        assert perfect.count() == 12 and all(a.label == a.item.gold for a in perfect.select_related("item"))

        out = run("compute_quality", project.name)
        assert re.match(r"run \d+: done; 12 items, ", out), out

        out = run("create_release", project.name, "--formats", "jsonl", "--include-open-label-issues")
        assert re.match(rf"{re.escape(project.name)}: release 1 published, 12 records", out), out
        release = Release.objects.get(project=project)
        records = [
            json.loads(line)
            for path in (settings.RELEASES_DIR / str(project.id) / "v1").rglob("*.jsonl")
            for line in path.read_text().splitlines()
        ]
        assert release.record_count == len(records) == 12
        stored: dict[int, list[list[str]]] = {}
        for annotation in ours.values():
            stored.setdefault(annotation.item_id, []).append(sorted(annotation.label))
        for record in records:
            assert set(record["labels"]) <= set(JIGSAW_LABELS)
            votes = sorted(sorted(vote["labels"]) for vote in record["annotations"])
            assert votes == sorted(stored[record["item_id"]]), record
            if votes[0] == votes[1]:  # both annotators agree: the released label set is theirs
                assert sorted(record["labels"]) == votes[0], record

    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)


def test_demo_setup_against_the_real_label_studio_prints_logins_that_work_and_survives_a_fresh_database(
    real_gateway: Gateway,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bin/demo's set-up: the annotator it prints can log in to Label Studio with the printed
    password, and a new workbench database (the SQLite file deleted, var/label-studio kept) sets
    up again instead of failing to claim the annotator Label Studio already has."""
    from workbench.projects.management.commands import demo_setup

    settings.VAR_DIR = tmp_path
    settings.PUBLIC_URL = live_server.url
    email = f"demo-annotator-{uuid.uuid4().hex[:8]}@workbench.local"  # the shared server keeps users
    monkeypatch.setattr(demo_setup, "ANNOTATOR_EMAIL", email)
    monkeypatch.setattr(demo_setup, "DEMO_PROJECT", f"Demo {uuid.uuid4().hex[:8]}")
    ls_projects = []
    try:
        out = run("demo_setup")
        project = Project.objects.get(name=demo_setup.DEMO_PROJECT)
        ls_projects.append(project.ls_project_id)
        assert "Imported 60 demo items." in out
        password = re.search(rf"log in as {re.escape(email)} / (\S+)", out)
        assert password is not None, out
        assert real_gateway.user_token(email=email, password=password.group(1))
        assert f"{real_gateway_url(settings)}/projects/{project.ls_project_id}/" in out

        # A fresh workbench database; Label Studio and var/ keep what they had.
        call_command("flush", "--no-input", verbosity=0)
        assert not get_user_model().objects.exists()
        out = run("demo_setup")
        project = Project.objects.get(name=demo_setup.DEMO_PROJECT)
        ls_projects.append(project.ls_project_id)
        assert f"log in as {email} / {password.group(1)}" in out
        assert real_gateway.user_token(email=email, password=password.group(1))
    finally:
        for ls_project_id in ls_projects:
            real_gateway.delete_project(project_id=ls_project_id)


def real_gateway_url(settings: Settings) -> str:
    return str(settings.LABEL_STUDIO_URL)
