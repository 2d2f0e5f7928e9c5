from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from exports import BinaryRecord, SplitRatios, build_release, escape_formula
from tests.exports.samples import SALT, meta

DANGEROUS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR=1"]
HARMLESS = ["plain", " =leading space", "a=b", "", "'already quoted"]


@pytest.mark.parametrize("cell", DANGEROUS)
def test_it_prefixes_formula_cells_with_an_apostrophe(cell: str) -> None:
    assert escape_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", HARMLESS)
def test_it_leaves_ordinary_cells_alone(cell: str) -> None:
    assert escape_formula(cell) == cell


def test_csv_release_neutralizes_formulas_in_text_and_ids(tmp_path: Path) -> None:
    texts = DANGEROUS + HARMLESS
    records = [
        BinaryRecord(
            item_id=i,
            external_id=("=ID()" if i == 0 else f"ext-{i}"),
            text=text,
            label="toxic",
            soft_label={"toxic": 1.0, "non-toxic": 0.0},
            annotations=(),
            quality=0.0 if i == 0 else None,
        )
        for i, text in enumerate(texts)
    ]
    build_release(
        records,
        kind="binary",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("csv", "jsonl"),
        split_ratios=SplitRatios(1, 0, 0),
    )
    path = tmp_path / "r" / "csv" / "train.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["text"] for row in rows] == [escape_formula(t) for t in texts]
    assert rows[0]["external_id"] == "'=ID()"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[0]["quality"] == "0" and rows[1]["quality"] == ""
    # pandas reads it back (the apostrophe is part of the cell, by design).
    frame = pd.read_csv(path, keep_default_na=False)
    assert frame["text"].tolist()[:2] == ["'" + DANGEROUS[0], "'+1+1"]
    assert path.read_bytes().startswith(b"item_id,external_id,split,text,label,soft_toxic")
