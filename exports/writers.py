"""Streaming file writers: each takes chunks of rows and keeps nothing but the open file.

Formats (one file per split, ``<format>/<split>.<ext>``):

* ``jsonl``   -- one compact JSON object per line (orjson), UTF-8, keys in schema order.
* ``csv``     -- RFC 4180 (``\\r\\n``, double-quote escaping, every string cell quoted),
  UTF-8 without BOM, written by Arrow's CSV writer (floats in shortest round-trip form, so
  ``1.0`` is written ``1``; a missing ``quality`` is an empty cell). Nested values are
  flattened: ``soft_<class>`` columns, multilabel ``labels`` joined with ``|`` plus
  ``label_<class>`` 0/1 columns, ``annotations`` as a JSON string. **Formula injection**:
  every text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
  leading apostrophe (``'``) so spreadsheets show it as text instead of running it. Numbers
  the library writes are never negative, so no numeric cell is altered. The CSV is for people
  and spreadsheets; use JSONL or Parquet when the exact text matters.
* ``parquet`` -- the kind's explicit Arrow schema (:func:`exports.rows.arrow_schema`), zstd,
  one row group per chunk of a split (fixed ``chunk_rows``), no timestamps in metadata.
* ``trl``     -- preference only, JSONL with exactly ``prompt``, ``chosen``, ``rejected``
  (the format TRL's ``DPOTrainer``/``RewardTrainer`` read); ties are left out and counted. A
  graded release adds ``margin`` (the consensus strength), the optional column TRL's
  ``RewardTrainer`` reads into its loss.
* ``trl_conversational`` -- the same pairs in TRL's conversational form: ``prompt``, ``chosen``
  and ``rejected`` are lists of ``{"role", "content"}`` messages
  (:mod:`exports.conversation`), ``margin`` when graded; ties left out and counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final, Protocol

import orjson
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from exports.conversation import conversational_pair
from exports.encoding import Chunk
from exports.keys import sha256_file
from exports.records import LabelSpace
from exports.rows import arrow_schema, preference_pair, text_fields

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "trl", "trl_conversational")
EXTENSIONS: dict[str, str] = {
    "jsonl": "jsonl",
    "csv": "csv",
    "parquet": "parquet",
    "trl": "jsonl",
    "trl_conversational": "jsonl",
}
# Formats of preference pairs only (chosen / rejected; ties left out and counted).
PAIR_FORMATS: tuple[str, ...] = ("trl", "trl_conversational")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PARQUET_COMPRESSION: Final = "zstd"
_BUFFER_BYTES = 1 << 20


def escape_formula(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would read as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


class RowWriter(Protocol):
    rows: int

    def write(self, chunk: Chunk) -> None: ...

    def close(self) -> None: ...

    def sha256(self) -> str:
        """Hex sha256 of the closed file: taken while writing where this library writes the
        bytes itself, read back from disk where Arrow's writers wrote them."""
        ...


def relative_path(fmt: str, split: str) -> str:
    return f"{fmt}/{split}.{EXTENSIONS[fmt]}"


def open_writer(fmt: str, path: Path, space: LabelSpace, chunk_rows: int, empty: Chunk) -> RowWriter:
    """``empty`` is a chunk with no rows; writers take their column layout from it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "csv":
        return CsvWriter(path, empty)
    if fmt == "parquet":
        return ParquetRowWriter(path, space, chunk_rows)
    if fmt == "trl":
        return TrlWriter(path, margin=space.graded)
    if fmt == "trl_conversational":
        return TrlWriter(path, conversational=True, margin=space.graded)
    raise ValueError(f"unknown format {fmt!r}")


class HashedFile:
    """A binary file that hashes what is written to it, so the manifest's sha256 of a file
    needs no second read (``hashlib`` releases the GIL on large writes). For the files this
    library writes itself; Arrow's CSV and Parquet writers could take it as their sink too,
    but then every one of their many small writes calls back into Python, which costs more
    than reading the file again."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb", buffering=_BUFFER_BYTES)
        self._digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._file.write(data)

    def close(self) -> None:
        self._file.close()

    def sha256(self) -> str:
        """Hex sha256 of everything written so far (the whole file once closed)."""
        return self._digest.hexdigest()


class JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.rows = 0
        self._file = HashedFile(path)

    def write(self, chunk: Chunk) -> None:
        self._file.write(chunk.jsonl)
        self.rows += len(chunk.rows)

    def close(self) -> None:
        self._file.close()

    def sha256(self) -> str:
        return self._file.sha256()


class TrlWriter:
    """Writes (prompt, chosen, rejected), as strings or (``conversational``) as message lists,
    and with ``margin`` the row's consensus strength as TRL's ``margin`` column; ``ties``
    counts the rows it left out."""

    def __init__(self, path: Path, *, conversational: bool = False, margin: bool = False) -> None:
        self.rows = 0
        self.ties = 0
        self.margin = margin
        self._conversational = conversational
        self._file = HashedFile(path)

    def write(self, chunk: Chunk) -> None:
        lines = []
        for row in chunk.rows:
            pair = preference_pair(row)
            if pair is None:
                self.ties += 1
                continue
            chosen, rejected = pair
            pair_row: dict[str, Any] = (
                conversational_pair(row["prompt"], chosen, rejected)
                if self._conversational
                else {"prompt": row["prompt"], "chosen": chosen, "rejected": rejected}
            )
            if self.margin:
                pair_row["margin"] = row["strength"]
            lines.append(orjson.dumps(pair_row, option=orjson.OPT_APPEND_NEWLINE))
        self._file.write(b"".join(lines))
        self.rows += len(lines)

    def close(self) -> None:
        self._file.close()

    def sha256(self) -> str:
        return self._file.sha256()


def csv_header(space: LabelSpace) -> list[str]:
    classes = space.classes
    header = ["item_id", "external_id", "split", *text_fields(space.kind)]
    if space.kind == "multilabel":
        header += ["labels", *(f"label_{name}" for name in classes)]
    else:
        header.append("label")
        if space.graded:
            header.append("strength")
    header += [f"soft_{name}" for name in classes]
    header += ["quality", "annotator_count", "annotations"]
    return header


class CsvWriter:
    def __init__(self, path: Path, empty: Chunk) -> None:
        self.rows = 0
        # quoting_header and eol exist since pyarrow 16; pyarrow-stubs 20 does not know them yet.
        options = pa_csv.WriteOptions(  # type: ignore[call-arg]
            quoting_style="needed", quoting_header="none", eol="\r\n"
        )
        self._path = path
        self._writer = pa_csv.CSVWriter(str(path), empty.csv_batch.schema, write_options=options)

    def write(self, chunk: Chunk) -> None:
        self._writer.write_batch(chunk.csv_batch)
        self.rows += len(chunk.rows)

    def close(self) -> None:
        self._writer.close()

    def sha256(self) -> str:
        return sha256_file(self._path)  # Arrow writes the file itself (see HashedFile)


class ParquetRowWriter:
    def __init__(self, path: Path, space: LabelSpace, chunk_rows: int) -> None:
        self.rows = 0
        self._chunk_rows = chunk_rows
        self._path = path
        self._writer = pq.ParquetWriter(
            str(path),
            arrow_schema(space),
            compression=PARQUET_COMPRESSION,
            write_statistics=True,
            store_schema=True,
        )

    def write(self, chunk: Chunk) -> None:
        self._writer.write_batch(chunk.batch, row_group_size=self._chunk_rows)
        self.rows += len(chunk.rows)

    def close(self) -> None:
        self._writer.close()

    def sha256(self) -> str:
        return sha256_file(self._path)  # Arrow writes the file itself (see HashedFile)
