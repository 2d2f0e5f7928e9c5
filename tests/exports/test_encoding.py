from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from exports import ReleaseRecord, SplitRatios, build_release, csv_header
from exports.encoding import Chunk
from exports.records import label_space
from exports.rows import RowMaker, arrow_schema
from tests.exports.samples import SALT, binary_records, meta, multilabel_records, preference_records

KINDS = {
    "binary": lambda: binary_records(range(300)),
    "multilabel": lambda: multilabel_records(300),
    "preference": lambda: preference_records(300),
}


def _rows(kind: str, records: Iterator[ReleaseRecord]) -> list[dict[str, object]]:
    make = RowMaker(label_space(kind))
    return [make(record, index, "train") for index, record in enumerate(records)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_json_lines_hold_exactly_the_rows_in_order(kind: str) -> None:
    rows = _rows(kind, KINDS[kind]())
    jsonl = Chunk(rows, label_space(kind), arrow_schema(label_space(kind))).jsonl
    lines = jsonl.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(rows) + 1
    # the standard library's view of the same rows (vote dataclasses as objects, tuples as lists)
    expected = [json.loads(json.dumps(row, default=asdict)) for row in rows]
    assert [json.loads(line) for line in lines[:-1]] == expected
    assert all(list(json.loads(line)) == list(row) for line, row in zip(lines, rows, strict=False))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_csv_header_is_the_documented_one(kind: str, tmp_path: Path) -> None:
    build_release(
        KINDS[kind](),
        kind=kind,
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("csv",),
        split_ratios=SplitRatios(1, 0, 0),
    )
    first_line = (tmp_path / "r" / "csv" / "train.csv").read_bytes().split(b"\r\n", 1)[0]
    assert first_line.decode().split(",") == csv_header(label_space(kind))
