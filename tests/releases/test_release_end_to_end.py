"""End to end: annotations arrive from the real Label Studio (simulated annotators, webhooks to
the live workbench) -> release v1 -> more annotations and a relabel -> v2 -> the diff shows
exactly those changes, v1's files are unchanged, and the client pulls both over HTTP."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.test_label_studio_round_trip import jigsaw_rows
from tests.releases.conftest import annotate  # noqa: F401  (fixture module)
from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item
from workbench.projects.services import items_import, items_push, project_create
from workbench_client import WorkbenchClient

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[2]


def label_until_done(project, annotators, expected: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    assert simulate(project=project, annotators=annotators, seed=seed).total == expected


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_releases_from_real_annotations_diff_exactly_and_pull_over_http(
    real_gateway: Gateway,
    live_server,
    settings,
    releases_dir: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings.PUBLIC_URL = live_server.url
    engineer = user_create(email=f"ml-{uuid.uuid4().hex[:6]}@example.test", role=Role.ML_ENGINEER)
    project = project_create(
        name=f"test releases {uuid.uuid4().hex[:8]}",
        kind="toxicity_binary",
        annotators_per_item=2,
        created_by=engineer,
    )
    items_import(
        project=project,
        source="jigsaw_toxic_sample.csv",
        content=jigsaw_rows(24),
        columns={"text": "comment_text", "external_id": "id"},
    )
    annotators = simulated_annotators(2, [0.0])
    client = WorkbenchClient(live_server.url, engineer.auth_token.key, progress=False)

    # v1: 16 items, both annotators right every time (so consensus = gold).
    items_push(project=project, limit=16)
    label_until_done(project, annotators, 32, seed=1)
    # Webhooks bring them; on SQLite's shared in-memory test database some hit "table is
    # locked", and reconciliation (the production backstop) brings the rest.
    annotations_reconcile(project=project)
    assert Annotation.objects.filter(project=project).count() == 32
    v1 = client.create_release(project.id, tag="first")
    assert (v1["version"], v1["status"], v1["record_count"]) == (1, "published", 16), v1
    v1_folder = releases_dir / str(project.id) / "v1"
    v1_files = snapshot(v1_folder)

    # More annotations (8 new items) and a relabel of one item by both annotators.
    items_push(project=project)
    label_until_done(project, annotators, 16, seed=10)
    annotations_reconcile(project=project)
    relabeled = Item.objects.filter(project=project).order_by("id").first()
    assert relabeled is not None
    flipped = "non-toxic" if relabeled.gold == "toxic" else "toxic"
    result = kinds.interface(project.kind).result_for(flipped)
    for annotation in Annotation.objects.filter(item=relabeled):
        real_gateway.update_annotation(annotation_id=annotation.ls_annotation_id, result=result)
    annotations_reconcile(project=project)  # whatever a webhook missed
    assert set(Annotation.objects.filter(item=relabeled).values_list("label", flat=True)) == {flipped}
    v2 = client.create_release(project.id, tag="second")
    assert (v2["version"], v2["status"], v2["record_count"]) == (2, "published", 24), v2

    diff = client.diff(project.id, 1, 2)
    assert diff["counts"] == {"added": 8, "removed": 0, "relabeled": 1, "moved": 0, "unchanged": 15}
    assert diff["relabel_transitions"] == {f"{relabeled.gold} -> {flipped}": 1}
    assert snapshot(v1_folder) == v1_files  # v1 unchanged byte for byte

    # The client pulls both and verifies them; the Parquet files load with HF datasets.
    one = client.pull(project=project.id, version=1, fmt="parquet", out=tmp_path / "pulled")
    latest = client.pull(project=project.id, version="latest", fmt="parquet", out=tmp_path / "pulled")
    assert latest.name == "v2"
    for name, digest in snapshot(one).items():
        assert v1_files[name] == digest
    from datasets import load_dataset

    manifest = json.loads((latest / "manifest.json").read_text())
    # With 24 items a split can be empty; datasets refuses a data file with no rows.
    files = {
        e["split"]: str(latest / e["path"])
        for e in manifest["files"]
        if e["format"] == "parquet" and e["rows"]
    }
    data = load_dataset("parquet", data_files=files)
    assert sum(len(split) for split in data.values()) == 24
    row = next(r for split in data.values() for r in split if r["item_id"] == relabeled.id)
    assert row["label"] == flipped and row["annotator_count"] == 2

    # A damaged partial download resumes and a corrupted file is caught.
    target = latest / "parquet" / "train.parquet"
    body = target.read_bytes()
    target.unlink()
    (target.parent / "train.parquet.part").write_bytes(body[: len(body) // 2])
    client.pull(project=project.id, version=2, fmt="parquet", out=tmp_path / "pulled")
    assert target.read_bytes() == body

    # The CLI does the same.
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench_client",
            "pull",
            "--url",
            live_server.url,
            "--token",
            engineer.auth_token.key,
            "--project",
            str(project.id),
            "--version",
            "latest",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "cli"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert (tmp_path / "cli" / "v2" / "csv" / "train.csv").exists()
    client.close()
    real_gateway.delete_project(project_id=project.ls_project_id)
