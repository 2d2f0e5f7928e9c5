"""TRL files of a graded preference release (issue 11): ``margin`` from the consensus strength, in
exactly the columns TRL documents for its reward trainer, ties left out and counted; an ungraded
release gets no ``margin``.

TRL's documented shapes (huggingface/trl ``docs/source/reward_trainer.md``, "Expected dataset type
and format"): standard preference with an explicit prompt ``{"prompt", "chosen", "rejected"}``
as strings; conversational ``{"prompt", "chosen", "rejected"}`` as lists of ``{"role",
"content"}`` messages. The optional ``margin`` column: "you can add a margin to the loss by adding
a ``margin`` column to the dataset" (``reward_trainer.mdx``, "Adding a margin to the loss", and
``paper_index.md``, Llama 2), read by ``DataCollatorForPreference`` as the example's ``margin``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from exports import PreferenceRecord, ReleaseInputError, arrow_schema, build_release
from exports.records import LabelSpace
from tests.exports.samples import SALT, meta, preference_records

TRL_COLUMNS = ["prompt", "chosen", "rejected", "margin"]
SPLITS = ("train", "validation", "test")


def graded_records(n: int) -> Iterator[PreferenceRecord]:
    """HH-RLHF pairs (A / B / tie in turn) with a strength for every decided pair."""
    for record in preference_records(n):
        strength = None if record.label == "tie" else (0.5, 1.0, 2.5, 3.0)[record.item_id % 4]
        yield dataclasses.replace(record, strength=strength)


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _rows(root: Path, fmt: str) -> list[dict[str, object]]:
    return [row for split in SPLITS for row in _jsonl(root / fmt / f"{split}.jsonl")]


def test_a_graded_release_writes_trls_documented_columns_with_margin(tmp_path: Path) -> None:
    manifest = build_release(
        graded_records(120),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl", "trl", "trl_conversational"),
        graded=True,
    )
    strength = {r.external_id: r.strength for r in graded_records(120)}
    records = {r["external_id"]: r for r in _rows(tmp_path / "r", "jsonl")}
    plain, chat = _rows(tmp_path / "r", "trl"), _rows(tmp_path / "r", "trl_conversational")
    assert len(plain) == len(chat) == 80  # 40 ties left out
    for row in plain:
        assert list(row) == TRL_COLUMNS
        assert all(isinstance(row[name], str) for name in ("prompt", "chosen", "rejected"))
        assert isinstance(row["margin"], float)
    for row in chat:
        assert list(row) == TRL_COLUMNS
        for name in ("prompt", "chosen", "rejected"):
            messages = row[name]
            assert isinstance(messages, list) and messages
            assert all(isinstance(m, dict) and list(m) == ["role", "content"] for m in messages)
        assert isinstance(row["margin"], float)
    # margin is the record's consensus strength, pair by pair (the jsonl rows carry it too)
    by_prompt = {(r["prompt"], r["chosen"]): r["margin"] for r in plain}
    for record in records.values():
        if record["label"] == "tie":
            assert record["strength"] is None
            continue
        chosen = record["response_a"] if record["label"] == "A" else record["response_b"]
        assert by_prompt[(record["prompt"], chosen)] == strength[record["external_id"]] == record["strength"]
    for name in ("trl", "trl_conversational"):
        stats = manifest.stats[name]
        assert (stats["pairs"], stats["ties_excluded"], stats["margin"]) == (80, 40, True)
    sheet = (tmp_path / "r" / "DATASHEET.md").read_text()
    assert "ties left out: 40" in sheet and "has a `margin`: the consensus strength" in sheet


def test_the_trl_files_load_as_trls_reward_dataset_columns_in_hf_datasets(tmp_path: Path) -> None:
    build_release(
        graded_records(60),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("trl", "trl_conversational"),
        graded=True,
    )
    plain = datasets.load_dataset("json", data_files=str(tmp_path / "r/trl/train.jsonl"), split="train")
    assert plain.column_names == TRL_COLUMNS
    assert {name: plain.features[name].dtype for name in TRL_COLUMNS} == {
        "prompt": "string",
        "chosen": "string",
        "rejected": "string",
        "margin": "float64",
    }
    chat = datasets.load_dataset(
        "json", data_files=str(tmp_path / "r/trl_conversational/train.jsonl"), split="train"
    )
    assert chat.column_names == TRL_COLUMNS
    message = {"role": datasets.Value("string"), "content": datasets.Value("string")}
    for name in ("prompt", "chosen", "rejected"):
        feature = chat.features[name]
        inner = getattr(feature, "feature", feature[0] if isinstance(feature, list) else None)
        assert dict(inner) == message, (name, feature)
    assert chat.features["margin"].dtype == "float64"


def test_an_ungraded_release_has_no_margin_column(tmp_path: Path) -> None:
    manifest = build_release(
        preference_records(30),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl", "csv", "trl", "trl_conversational"),
    )
    assert all(list(row) == ["prompt", "chosen", "rejected"] for row in _rows(tmp_path / "r", "trl"))
    assert all(
        list(row) == ["prompt", "chosen", "rejected"] for row in _rows(tmp_path / "r", "trl_conversational")
    )
    assert all("strength" not in row for row in _rows(tmp_path / "r", "jsonl"))
    assert manifest.stats["trl"]["margin"] is False
    assert "`margin`" not in (tmp_path / "r" / "DATASHEET.md").read_text()


def test_a_graded_release_has_a_strength_column_in_csv_and_parquet(tmp_path: Path) -> None:
    build_release(
        graded_records(30),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("csv", "parquet"),
        graded=True,
    )
    schema = arrow_schema(LabelSpace("preference", graded=True))
    assert schema.names.index("strength") == schema.names.index("label") + 1
    table = pq.read_table(tmp_path / "r/parquet/train.parquet")
    assert table.schema.field("strength").type == "double"
    for label, strength in zip(table["label"].to_pylist(), table["strength"].to_pylist(), strict=True):
        assert (strength is None) == (label == "tie")
    header = (tmp_path / "r/csv/train.csv").read_text().splitlines()[0].split(",")
    assert header[header.index("label") + 1] == "strength"


@pytest.mark.parametrize(
    ("label", "strength", "problem"),
    [
        ("A", None, "must be a number in \\[0, 3\\] for a graded 'A' pair"),
        ("B", 3.5, "must be a number in \\[0, 3\\]"),
        ("A", "2", "must be a number"),
        ("tie", 1.0, "must be None for a tie"),
    ],
)
def test_a_bad_strength_is_refused_naming_the_record(
    tmp_path: Path, label: str, strength: object, problem: str
) -> None:
    first = next(graded_records(1))
    soft = {"A": 0.0, "B": 0.0, "tie": 0.0, label: 1.0}
    bad = dataclasses.replace(first, label=label, soft_label=soft, strength=strength)  # type: ignore[arg-type]
    bad = dataclasses.replace(bad, annotations=(dataclasses.replace(first.annotations[0], label=label),))
    with pytest.raises(ReleaseInputError, match=f"record #0 \\(item_id=0\\): strength {problem}"):
        build_release(
            [bad], kind="preference", out_dir=tmp_path / "r", salt=SALT, release_meta=meta(), graded=True
        )
    assert not (tmp_path / "r").exists()


def test_graded_applies_to_preference_releases_only() -> None:
    with pytest.raises(ReleaseInputError, match="graded applies to preference releases only"):
        LabelSpace("binary", graded=True)
