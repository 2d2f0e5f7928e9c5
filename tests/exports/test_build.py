from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from exports import (
    DATASHEET_NAME,
    MANIFEST_NAME,
    BinaryRecord,
    DatasheetInfo,
    MultiLabelRecord,
    MultiLabelVote,
    SplitRatios,
    build_release,
    read_manifest,
)
from tests.exports.samples import SALT, binary_records, meta, multilabel_records, preference_records

Tree = Callable[[Path], dict[str, bytes]]


def test_it_builds_byte_identical_releases_from_the_same_state(tmp_path: Path, read_tree: Tree) -> None:
    info = DatasheetInfo(title="Toxicity", agreement={"krippendorff_alpha": 0.61})
    for name in ("a", "b"):
        build_release(
            binary_records(range(500)),
            kind="binary",
            out_dir=tmp_path / name,
            salt=SALT,
            release_meta=meta(),
            datasheet=info,
            chunk_rows=64,
            formats=("parquet", "csv", "jsonl"),
        )
    first, second = read_tree(tmp_path / "a"), read_tree(tmp_path / "b")
    assert MANIFEST_NAME in first and DATASHEET_NAME in first
    assert first == second


@pytest.mark.parametrize(
    "kind,records",
    [
        ("multilabel", lambda: multilabel_records(300)),
        ("preference", lambda: preference_records(300)),
    ],
)
def test_other_kinds_are_deterministic_too(
    tmp_path: Path, read_tree: Tree, kind: str, records: Callable
) -> None:  # type: ignore[type-arg]
    formats = ("jsonl", "csv", "parquet", "trl") if kind == "preference" else ("jsonl", "csv", "parquet")
    for name in ("a", "b"):
        build_release(
            records(),
            kind=kind,
            out_dir=tmp_path / name,
            salt=SALT,
            release_meta=meta(),
            formats=formats,
            chunk_rows=50,
        )
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_annotation_order_from_the_database_does_not_change_the_bytes(
    tmp_path: Path, read_tree: Tree
) -> None:
    def reversed_votes(records: list[BinaryRecord]) -> list[BinaryRecord]:
        return [
            BinaryRecord(
                r.item_id,
                r.external_id,
                r.text,
                r.label,
                dict(reversed(list(r.soft_label.items()))),
                tuple(reversed(r.annotations)),
                r.quality,
            )
            for r in records
        ]

    records = list(binary_records(range(100)))
    build_release(records, kind="binary", out_dir=tmp_path / "a", salt=SALT, release_meta=meta())
    build_release(
        reversed_votes(records), kind="binary", out_dir=tmp_path / "b", salt=SALT, release_meta=meta()
    )
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_manifest_counts_files_and_metadata(tmp_path: Path) -> None:
    manifest = build_release(
        binary_records(range(1000)),
        kind="binary",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(tag="weekly"),
    )
    on_disk = read_manifest(tmp_path / "r")
    assert on_disk == manifest
    stats = manifest.stats
    assert stats["records"] == 1000
    assert sum(stats["by_split"].values()) == 1000
    assert sum(stats["by_label"].values()) == 1000
    assert stats["annotators"] == 7 and stats["annotations"] == 3000
    assert manifest.release.tag == "weekly" and manifest.release.source_state == {"last_annotation_id": 4242}
    paths = [entry.path for entry in manifest.files]
    assert paths[:3] == ["jsonl/train.jsonl", "jsonl/validation.jsonl", "jsonl/test.jsonl"]
    assert paths[-1] == DATASHEET_NAME
    for entry in manifest.files:
        assert (tmp_path / "r" / entry.path).stat().st_size == entry.bytes
        if entry.split is not None:
            assert entry.rows == stats["by_split"][entry.split]
    raw = json.loads((tmp_path / "r" / MANIFEST_NAME).read_text())
    assert raw["schema_version"] == 1 and raw["release"]["label_config_hash"] == "sha256:0f00"
    assert "salt" not in json.dumps(raw["splits"]["ratios"]) and SALT not in json.dumps(raw)


def test_jsonl_rows_carry_every_field_in_schema_order(tmp_path: Path) -> None:
    build_release(
        binary_records(range(50)),
        kind="binary",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl",),
        split_ratios=SplitRatios(1, 0, 0),
    )
    lines = (tmp_path / "r" / "jsonl" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    assert list(row) == [
        "item_id",
        "external_id",
        "split",
        "text",
        "label",
        "soft_label",
        "quality",
        "annotator_count",
        "annotations",
    ]
    assert [json.loads(line)["item_id"] for line in lines] == list(range(50))
    original = next(binary_records(range(1)))
    assert row["text"] == original.text  # exact text, newlines and quotes included
    assert [vote["annotator"] for vote in row["annotations"]] == sorted(
        v.annotator for v in original.annotations
    )


def test_multilabel_rows_list_classes_in_class_order(tmp_path: Path) -> None:
    record = next(multilabel_records(1))
    annotators = [v.annotator for v in record.annotations]
    messy = MultiLabelRecord(
        item_id=1,
        external_id="x",
        text="t",
        labels=("insult", "toxic"),
        soft_label={name: 0.5 for name in record.soft_label},
        annotations=(MultiLabelVote(annotators[0], ("obscene", "toxic")),),
        quality=None,
    )
    build_release(
        [messy],
        kind="multilabel",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl",),
        split_ratios=SplitRatios(1, 0, 0),
    )
    row = json.loads((tmp_path / "r" / "jsonl" / "train.jsonl").read_text())
    assert row["labels"] == ["toxic", "insult"]
    assert row["annotations"] == [{"annotator": annotators[0], "labels": ["toxic", "obscene"]}]
    assert row["quality"] is None


def test_it_streams_files_while_reading_records(tmp_path: Path) -> None:
    seen_partial_output = []

    def records():  # type: ignore[no-untyped-def]
        for record in binary_records(range(3000)):
            if record.item_id == 2500:
                staging = next(tmp_path.glob(".r.building-*"))
                seen_partial_output.append((staging / "jsonl" / "train.jsonl").stat().st_size)
            yield record

    build_release(
        records(), kind="binary", out_dir=tmp_path / "r", salt=SALT, release_meta=meta(), chunk_rows=256
    )
    assert seen_partial_output and seen_partial_output[0] > 0
    assert not list(tmp_path.glob(".r.building-*"))


def test_an_empty_release_is_still_well_formed(tmp_path: Path) -> None:
    manifest = build_release([], kind="binary", out_dir=tmp_path / "r", salt=SALT, release_meta=meta())
    assert manifest.stats["records"] == 0
    assert "| **records** | 0 | 0 | 0 | 0 |" in (tmp_path / "r" / DATASHEET_NAME).read_text()


def test_zero_ratio_splits_get_no_files(tmp_path: Path) -> None:
    manifest = build_release(
        binary_records(range(100)),
        kind="binary",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        split_ratios=SplitRatios(0.9, 0.0, 0.1),
        formats=("csv",),
    )
    assert [e.path for e in manifest.files] == ["csv/train.csv", "csv/test.csv", DATASHEET_NAME]
    by_split = manifest.stats["by_split"]
    assert list(by_split) == ["train", "test"] and sum(by_split.values()) == 100


def test_a_failed_background_write_surfaces_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exports import writers

    def disk_full(self: object, chunk: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.ParquetRowWriter, "write", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        build_release(
            binary_records(range(2000)),
            kind="binary",
            out_dir=tmp_path / "r",
            salt=SALT,
            release_meta=meta(),
            chunk_rows=100,
        )
    assert list(tmp_path.iterdir()) == []
