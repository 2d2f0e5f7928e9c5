"""Streaming file writers: each takes chunks of rows and keeps nothing but the open file.

Formats (one file per split, ``<format>/<split>.<ext>``):

* ``jsonl``   -- one JSON object per line, UTF-8, keys in schema order, no NaN.
* ``csv``     -- RFC 4180 (``\\r\\n``, double-quote escaping), UTF-8 without BOM, nested
  values flattened: ``soft_<class>`` columns, multilabel ``labels`` joined with ``|`` plus
  ``label_<class>`` 0/1 columns, ``annotations`` as a JSON string. **Formula injection**:
  every text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
  leading apostrophe (``'``) so spreadsheets show it as text instead of running it. Numbers the library writes
  are never negative, so no numeric cell is altered. The CSV is for people and spreadsheets;
  use JSONL or Parquet when the exact text matters.
* ``parquet`` -- the kind's explicit Arrow schema (:func:`exports.rows.arrow_schema`), zstd,
  one row group per chunk of a split (fixed ``chunk_rows``), no timestamps in metadata.
* ``trl``     -- preference only, JSONL with exactly ``prompt``, ``chosen``, ``rejected``
  (the format TRL's ``DPOTrainer``/``RewardTrainer`` read); ties are left out and counted.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Final, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from exports.records import LabelSpace
from exports.rows import Row, arrow_schema, preference_pair, text_fields

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "trl")
EXTENSIONS: dict[str, str] = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet", "trl": "jsonl"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PARQUET_COMPRESSION: Final = "zstd"
_BUFFER_BYTES = 1 << 20

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def escape_formula(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would read as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


class RowWriter(Protocol):
    rows: int

    def write(self, rows: list[Row]) -> None: ...

    def close(self) -> None: ...


def relative_path(fmt: str, split: str) -> str:
    return f"{fmt}/{split}.{EXTENSIONS[fmt]}"


def open_writer(fmt: str, path: Path, space: LabelSpace, chunk_rows: int) -> RowWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "csv":
        return CsvWriter(path, space)
    if fmt == "parquet":
        return ParquetRowWriter(path, space, chunk_rows)
    if fmt == "trl":
        return TrlWriter(path)
    raise ValueError(f"unknown format {fmt!r}")


class JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.rows = 0
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER_BYTES)

    def write(self, rows: list[Row]) -> None:
        encode = _json.encode
        self._file.write("".join([encode(row) + "\n" for row in rows]))
        self.rows += len(rows)

    def close(self) -> None:
        self._file.close()


class TrlWriter:
    """Writes (prompt, chosen, rejected); ``ties`` counts the rows it left out."""

    def __init__(self, path: Path) -> None:
        self.rows = 0
        self.ties = 0
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER_BYTES)

    def write(self, rows: list[Row]) -> None:
        lines = []
        for row in rows:
            pair = preference_pair(row)
            if pair is None:
                self.ties += 1
                continue
            chosen, rejected = pair
            lines.append(
                _json.encode({"prompt": row["prompt"], "chosen": chosen, "rejected": rejected}) + "\n"
            )
        self._file.write("".join(lines))
        self.rows += len(lines)

    def close(self) -> None:
        self._file.close()


def csv_header(space: LabelSpace) -> list[str]:
    classes = space.classes
    header = ["item_id", "external_id", "split", *text_fields(space.kind)]
    if space.kind == "multilabel":
        header += ["labels", *(f"label_{name}" for name in classes)]
    else:
        header.append("label")
    header += [f"soft_{name}" for name in classes]
    header += ["quality", "annotator_count", "annotations"]
    return header


class CsvWriter:
    def __init__(self, path: Path, space: LabelSpace) -> None:
        self.rows = 0
        self._classes = space.classes
        self._text_fields = text_fields(space.kind)
        self._multi = space.kind == "multilabel"
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="", buffering=_BUFFER_BYTES)
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self._csv.writerow(csv_header(space))
        self._flush()

    def write(self, rows: list[Row]) -> None:
        self._csv.writerows([self._flatten(row) for row in rows])
        self._flush()
        self.rows += len(rows)

    def _flatten(self, row: Row) -> list[object]:
        cells: list[object] = [
            row["item_id"],
            escape_formula(row["external_id"]),
            row["split"],
        ]
        cells += [escape_formula(row[name]) for name in self._text_fields]
        if self._multi:
            positives = row["labels"]
            cells.append("|".join(positives))
            cells += [1 if name in positives else 0 for name in self._classes]
        else:
            cells.append(escape_formula(row["label"]))
        soft = row["soft_label"]
        cells += [soft[name] for name in self._classes]
        quality = row["quality"]
        cells += ["" if quality is None else quality, row["annotator_count"]]
        cells.append(_json.encode(row["annotations"]))
        return cells

    def _flush(self) -> None:
        self._file.write(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()

    def close(self) -> None:
        self._file.close()


class ParquetRowWriter:
    def __init__(self, path: Path, space: LabelSpace, chunk_rows: int) -> None:
        self.rows = 0
        self._schema = arrow_schema(space)
        self._chunk_rows = chunk_rows
        self._writer = pq.ParquetWriter(
            str(path),
            self._schema,
            compression=PARQUET_COMPRESSION,
            write_statistics=True,
            store_schema=True,
        )

    def write(self, rows: list[Row]) -> None:
        columns = [pa.array([row[field.name] for row in rows], type=field.type) for field in self._schema]
        batch = pa.RecordBatch.from_arrays(columns, schema=self._schema)
        self._writer.write_batch(batch, row_group_size=self._chunk_rows)
        self.rows += len(rows)

    def close(self) -> None:
        self._writer.close()
