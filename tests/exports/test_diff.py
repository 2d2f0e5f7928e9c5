from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from exports import (
    DIFF_COLUMNS,
    ReleaseFormatError,
    SplitRatios,
    build_release,
    diff_releases,
    iter_release_labels,
)
from tests.exports.samples import SALT, binary_records, meta, multilabel_records, preference_records

V1_IDS = range(0, 600)
V2_IDS = [i for i in range(0, 800) if i % 10 != 3]  # drops 60 old items, adds 200 (minus 20)
FLIPPED = frozenset(range(5, 600, 25))


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    build_release(
        binary_records(V1_IDS),
        kind="binary",
        out_dir=tmp_path / "v1",
        salt=SALT,
        release_meta=meta("1"),
        formats=("parquet", "jsonl"),
    )
    build_release(
        binary_records(iter(V2_IDS), flip=FLIPPED),
        kind="binary",
        out_dir=tmp_path / "v2",
        salt=SALT,
        release_meta=meta("2"),
        formats=("jsonl",),
    )
    return tmp_path / "v1", tmp_path / "v2"


def test_it_finds_added_removed_and_relabeled_items(releases: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = releases
    summary = diff_releases(old, new, out_dir=tmp_path / "diff")
    old_ids, new_ids = set(V1_IDS), set(V2_IDS)
    relabeled = {i for i in FLIPPED if i in new_ids}
    assert summary.added == len(new_ids - old_ids) == 180
    assert summary.removed == len(old_ids - new_ids) == 60
    assert summary.relabeled == len(relabeled)
    assert summary.moved == 0
    assert summary.unchanged == len(old_ids & new_ids) - len(relabeled)
    assert (summary.old_version, summary.new_version) == ("1", "2")
    assert sum(summary.relabel_transitions.values()) == len(relabeled)

    rows = [json.loads(line) for line in (tmp_path / "diff" / "diff.jsonl").read_text().splitlines()]
    assert [row["item_id"] for row in rows] == sorted(row["item_id"] for row in rows)
    by_change: dict[str, set[int]] = {}
    for row in rows:
        by_change.setdefault(row["change"], set()).add(row["item_id"])
    assert by_change == {"added": new_ids - old_ids, "removed": old_ids - new_ids, "relabeled": relabeled}
    flipped = next(row for row in rows if row["change"] == "relabeled")
    assert {flipped["old_label"], flipped["new_label"]} == {"toxic", "non-toxic"}
    assert flipped["old_split"] == flipped["new_split"]

    with (tmp_path / "diff" / "diff.csv").open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert tuple(csv_rows[0]) == DIFF_COLUMNS
    assert [int(row["item_id"]) for row in csv_rows] == [row["item_id"] for row in rows]
    written = json.loads((tmp_path / "diff" / "diff.json").read_text())
    assert written["counts"]["added"] == 180
    assert {entry["path"] for entry in written["files"]} == {"diff.csv", "diff.jsonl"}


def test_parquet_and_jsonl_readers_agree(releases: tuple[Path, Path], tmp_path: Path) -> None:
    old, _ = releases
    build_release(
        binary_records(V1_IDS),
        kind="binary",
        out_dir=tmp_path / "v1-jsonl",
        salt=SALT,
        release_meta=meta("1"),
        formats=("jsonl",),
    )
    from_parquet = list(iter_release_labels(old))
    assert from_parquet == list(iter_release_labels(tmp_path / "v1-jsonl"))
    assert [row.item_id for row in from_parquet] == list(V1_IDS)


def test_a_changed_salt_shows_up_as_moved_items(tmp_path: Path) -> None:
    build_release(
        binary_records(range(300)),
        kind="binary",
        out_dir=tmp_path / "a",
        salt=SALT,
        release_meta=meta("1"),
        formats=("jsonl",),
    )
    build_release(
        binary_records(range(300)),
        kind="binary",
        out_dir=tmp_path / "b",
        salt="a-different-salt-0123456789",
        release_meta=meta("2"),
        formats=("jsonl",),
        split_ratios=SplitRatios(0.5, 0.25, 0.25),
    )
    summary = diff_releases(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "d", formats=("jsonl",))
    assert summary.moved > 50 and summary.relabeled == 0 and summary.added == summary.removed == 0


def test_multilabel_diff_compares_label_sets(tmp_path: Path) -> None:
    build_release(
        multilabel_records(100),
        kind="multilabel",
        out_dir=tmp_path / "a",
        salt=SALT,
        release_meta=meta("1"),
        formats=("parquet",),
    )
    build_release(
        multilabel_records(100),
        kind="multilabel",
        out_dir=tmp_path / "b",
        salt=SALT,
        release_meta=meta("2"),
        formats=("jsonl",),
    )
    summary = diff_releases(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "d")
    assert summary.unchanged == 100 and summary.relabeled == 0
    labels = {row.label for row in iter_release_labels(tmp_path / "a")}
    assert "" in labels and any("|" in label for label in labels)


def test_it_refuses_to_diff_different_kinds(tmp_path: Path) -> None:
    build_release(
        binary_records(range(10)), kind="binary", out_dir=tmp_path / "a", salt=SALT, release_meta=meta()
    )
    build_release(
        preference_records(10), kind="preference", out_dir=tmp_path / "b", salt=SALT, release_meta=meta()
    )
    with pytest.raises(ReleaseFormatError, match="cannot diff a 'binary' release against a 'preference'"):
        diff_releases(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "d")


def test_it_needs_record_files_it_can_read(tmp_path: Path) -> None:
    build_release(
        binary_records(range(10)),
        kind="binary",
        out_dir=tmp_path / "a",
        salt=SALT,
        release_meta=meta(),
        formats=("csv",),
    )
    with pytest.raises(ReleaseFormatError, match="neither parquet nor jsonl"):
        list(iter_release_labels(tmp_path / "a"))


def test_it_attributes_changes_to_the_sources_it_is_given(
    releases: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = releases
    flipped = sorted(i for i in FLIPPED if i in set(V2_IDS))
    claimed = {i: "campaign 1" for i in flipped[:5]}
    claimed.update({i: "campaign 1" for i in (0, 1, 2)})  # in both releases, label kept
    claimed.update({700: "campaign 2", 3: "campaign 2"})  # added; removed (not counted)
    summary = diff_releases(old, new, out_dir=tmp_path / "d", attribution=claimed)
    assert summary.attribution == {
        "campaign 1": {"changed": 5, "unchanged": 3, "added": 0},
        "campaign 2": {"changed": 0, "unchanged": 0, "added": 1},
    }
    assert summary.relabeled_unattributed == len(flipped) - 5
    rows = {
        r["item_id"]: r for r in map(json.loads, (tmp_path / "d" / "diff.jsonl").read_text().splitlines())
    }
    assert {i for i, r in rows.items() if r["attributed_to"] == "campaign 1"} == set(flipped[:5])
    assert rows[700]["attributed_to"] == "campaign 2" and rows[3]["attributed_to"] is None
    assert diff_releases(old, new, out_dir=tmp_path / "plain").attribution == {}
