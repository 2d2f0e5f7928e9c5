"""Service tests: building, filtering, determinism, split stability, immutability, diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from django.db import DatabaseError, connection, transaction

from exports import ReleaseInputError, build_release
from tests import factories
from tests.exports.samples import meta
from tests.releases.conftest import annotate
from workbench.errors import Conflict, ValidationFailed
from workbench.projects.models import Item
from workbench.projects.services import items_import_records
from workbench.releases import selectors, services
from workbench.releases.models import Release
from workbench.releases.records import FilterPolicy, pseudonym

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project(annotators_per_item=2)
    factories.toxicity_items(project, 30)
    return project


def label_all(project, *, first: int = 0, last: int | None = None) -> list[Item]:  # type: ignore[no-untyped-def]
    items = list(Item.objects.filter(project=project).order_by("id"))[first:last]
    for item in items:
        annotate(item, 11, item.gold)
        annotate(item, 12, item.gold)
    return items


def create_and_build(project, **kwargs) -> Release:  # type: ignore[no-untyped-def]
    release = services.release_create(project=project, created_by=None, **kwargs)
    # The test's transaction never commits, so the on-commit build doesn't run: build here.
    assert services.release_build(release_id=release.id) is not None
    assert services.release_build(release_id=release.id) is None  # a second run is a no-op
    return Release.objects.get(id=release.id)


def folder(release: Release) -> Path:
    return services.release_folder(release)


def rows(release: Release) -> pd.DataFrame:
    frames = [
        pd.read_parquet(folder(release) / "parquet" / f"{s}.parquet") for s in ("train", "validation", "test")
    ]
    return pd.concat(frames).sort_values("item_id").reset_index(drop=True)


def test_a_release_holds_every_labeled_item_with_consensus_soft_label_and_pseudonyms(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=20)
    annotate(items[0], 13, "toxic" if items[0].gold == "non-toxic" else "non-toxic")

    release = create_and_build(project, tag="first")

    assert (release.version, release.status, release.record_count) == (1, "published", 20)
    assert release.excluded == {"unlabeled": 10}
    assert release.manifest["release"]["tag"] == "first"
    assert release.manifest["release"]["source_state"] == {
        "label_config_sha256": project.label_config_sha256,
        "guideline_version": None,
        "last_round": None,
        "model_version": None,
    }
    frame = rows(release)
    assert list(frame["item_id"]) == [i.id for i in items]
    assert list(frame["label"]) == [i.gold for i in items]
    first = frame.iloc[0]
    assert first["annotator_count"] == 3
    assert first["soft_label"][first["label"]] == pytest.approx(2 / 3)
    assert first["quality"] == pytest.approx(2 / 3)
    annotators = {vote["annotator"] for votes in frame["annotations"] for vote in votes}
    assert len(annotators) == 3 and all(a.startswith("ann_") for a in annotators)
    salt = services.release_settings_get(project=project).salt
    assert annotators == {pseudonym(user, salt) for user in (11, 12, 13)}
    # Files are read-only on disk.
    assert not (folder(release) / "manifest.json").stat().st_mode & 0o222


def test_the_filter_policy_is_applied_and_recorded(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=10)
    for item in Item.objects.filter(project=project).order_by("id")[10:15]:
        annotate(item, 11, "toxic")  # one annotator only
    annotate(items[0], 13, "toxic" if items[0].gold == "non-toxic" else "non-toxic")  # quality 2/3

    release = create_and_build(project, policy=FilterPolicy(min_annotators=2, min_quality=0.9))

    assert release.record_count == 9
    assert release.excluded == {"below_min_annotators": 5, "below_min_quality": 1, "unlabeled": 15}
    assert release.filter_policy["min_annotators"] == 2
    assert release.filter_policy["label_issues_applied"] is False
    assert "At least 2 annotator(s) per item; left out: 5." in (folder(release) / "DATASHEET.md").read_text()


def test_the_same_state_built_twice_gives_byte_identical_data_files(project) -> None:  # type: ignore[no-untyped-def]
    label_all(project)
    one, two = create_and_build(project), create_and_build(project)
    data = [e["path"] for e in one.manifest["files"] if e["format"] != "datasheet"]
    assert data and all(
        (folder(one) / path).read_bytes() == (folder(two) / path).read_bytes() for path in data
    )
    assert one.manifest["files"][:-1] == two.manifest["files"][:-1]
    assert one.manifest["stats"] == two.manifest["stats"]


def test_rebuilding_one_release_reproduces_its_manifest_exactly(project, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    label_all(project)
    release = create_and_build(project)
    original = (folder(release) / "manifest.json").read_bytes()
    settings.RELEASES_DIR = tmp_path / "again"
    _, sha, _ = services._write_files(release)
    assert (folder(release) / "manifest.json").read_bytes() == original
    assert sha == release.manifest_sha256


def test_items_keep_their_split_across_versions(project) -> None:  # type: ignore[no-untyped-def]
    label_all(project, last=15)
    one = create_and_build(project)
    label_all(project, first=15)
    two = create_and_build(project)
    before = dict(zip(rows(one)["item_id"], rows(one)["split"], strict=True))
    after = dict(zip(rows(two)["item_id"], rows(two)["split"], strict=True))
    assert len(after) == 30
    assert all(after[item_id] == split for item_id, split in before.items())


def test_versions_are_monotonic_per_project(project, fake_gateway) -> None:  # type: ignore[no-untyped-def]
    other = factories.project()
    label_all(project)
    versions = [create_and_build(project).version for _ in range(3)]
    assert versions == [1, 2, 3]
    assert create_and_build(other).version == 1


def test_a_published_release_cannot_be_changed_through_the_services(project) -> None:  # type: ignore[no-untyped-def]
    label_all(project)
    release = create_and_build(project)
    with pytest.raises(Conflict):
        services.release_delete(release=release)
    assert services.release_build(release_id=release.id) is None  # no rebuild over it
    # Nothing can write over its folder either: the builder refuses an existing one.
    before = (folder(release) / "manifest.json").read_bytes()
    with pytest.raises(ReleaseInputError, match="already exists"):
        build_release(
            [], kind="binary", out_dir=folder(release), salt="x" * 32, release_meta=meta(version="1")
        )
    assert (folder(release) / "manifest.json").read_bytes() == before


def test_the_database_refuses_to_change_a_published_release(project) -> None:  # type: ignore[no-untyped-def]
    label_all(project)
    release = create_and_build(project)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Release.objects.filter(id=release.id).update(tag="rewritten")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE releases_release SET manifest_sha256 = 'x' WHERE id = %s", [release.id])
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM releases_release WHERE id = %s", [release.id])
    assert Release.objects.get(id=release.id).tag == ""


def test_a_failed_build_is_recorded_and_can_be_deleted(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    label_all(project)

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(services, "_write_files", explode)
    release = create_and_build(project)
    assert release.status == "failed" and "disk full" in release.error
    services.release_delete(release=release)
    assert not Release.objects.filter(id=release.id).exists()


def test_bad_arguments_are_refused_before_anything_is_queued(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="valid: crowdlab, majority_vote"):
        services.release_create(
            project=project, created_by=None, policy=FilterPolicy(consensus_method="nope")
        )
    with pytest.raises(ValidationFailed, match="split ratios"):
        services.release_create(project=project, created_by=None, split_ratios={"train": 0.9})
    with pytest.raises(ValidationFailed, match="preference"):
        services.release_create(project=project, created_by=None, formats=["trl"])
    assert not Release.objects.exists()


def test_a_diff_shows_added_and_relabeled_items(project) -> None:  # type: ignore[no-untyped-def]
    items = label_all(project, last=20)
    one = create_and_build(project)
    label_all(project, first=20, last=25)
    flipped = "toxic" if items[3].gold == "non-toxic" else "non-toxic"
    annotate(items[3], 11, flipped)
    annotate(items[3], 12, flipped)
    two = create_and_build(project)

    summary, where = services.release_diff(old=one, new=two)

    assert summary["counts"] == {"added": 5, "removed": 0, "relabeled": 1, "moved": 0, "unchanged": 19}
    listing = pd.read_csv(where / "diff.csv")
    assert sorted(listing["item_id"]) == sorted(
        [items[3].id, *(i.id for i in Item.objects.order_by("id")[20:25])]
    )
    # Computed once, served again from disk.
    assert services.release_diff(old=one, new=two)[0] == summary


def test_a_preference_release_writes_trl_pairs_and_keeps_ties_out(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(
        project=project,
        records=[
            {"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}", "label": "A"} for i in range(12)
        ],
    )
    items = list(Item.objects.filter(project=project).order_by("id"))
    for n, item in enumerate(items):
        annotate(item, 21, "A")
        annotate(item, 22, "B" if n < 4 else "A")  # four A/B splits: consensus "tie"

    release = create_and_build(project)

    assert release.formats == ["jsonl", "csv", "parquet", "trl"]
    assert release.manifest["stats"]["by_label"] == {"A": 8, "B": 0, "tie": 4}
    assert release.manifest["stats"]["trl"]["ties_excluded"] == 4
    assert release.manifest["stats"]["trl"]["pairs"] == 8


def test_a_preference_release_where_the_longer_answer_wins_names_the_reward_hacking_risk(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(
        project=project,
        records=[
            {"prompt": f"q{i}", "response_a": f"a long and detailed answer {i}", "response_b": f"b{i}"}
            for i in range(30)
        ],
    )
    for n, item in enumerate(Item.objects.filter(project=project).order_by("id")):
        annotate(item, 21, "A" if n < 27 else "B")  # the longer response A wins 27 of 30

    release = create_and_build(project)

    sheet = selectors.release_datasheet(release=release) or ""
    assert "## Reward-hacking risk" in sheet
    assert "longer one in 27 of 30 decided pairs" in sheet


def test_a_preference_release_can_add_the_conversational_trl_form(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(
        project=project,
        records=[
            {"prompt": f"\n\nHuman: q{i}\n\nAssistant:", "response_a": f"a{i}", "response_b": f"b{i}"}
            for i in range(9)
        ],
    )
    for n, item in enumerate(Item.objects.filter(project=project).order_by("id")):
        annotate(item, 21, "A")
        annotate(item, 22, "B" if n < 3 else "A")  # three splits: ties, left out and counted

    release = create_and_build(project, formats=["jsonl", "trl", "trl_conversational"])

    assert release.formats == ["jsonl", "trl", "trl_conversational"]
    assert release.manifest["stats"]["trl_conversational"]["pairs"] == 6
    assert release.manifest["stats"]["trl_conversational"]["ties_excluded"] == 3
    path, _ = selectors.release_file(release=release, name="trl_conversational/train.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows and all(
        r["prompt"][0]["role"] == "user" and r["chosen"][0]["role"] == "assistant" for r in rows
    )
    with pytest.raises(ValidationFailed, match="trl_conversational format needs a preference project"):
        services.release_create(project=factories.project(), created_by=None, formats=["trl_conversational"])
