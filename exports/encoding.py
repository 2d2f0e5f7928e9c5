"""Serialization of row chunks: JSON lines and Arrow columns.

Per-record Python work dominates a million-row release, so a chunk of rows is turned into
columns once and every format reuses them: Parquet writes the Arrow arrays, CSV writes a flat
view of the same arrays through Arrow's C++ CSV writer, and JSON lines come from orjson (several
times faster than the standard library; compact, UTF-8, keys in row order, deterministic).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from exports.records import LabelSpace
from exports.rows import Row, arrow_schema, text_fields

FORMULA_PATTERN = "^[=+\\-@\\t\\r]"
_LINE = orjson.OPT_APPEND_NEWLINE


class Chunk:
    """Up to ``chunk_rows`` rows of one split, with the encodings each format needs, each
    computed at most once."""

    def __init__(self, rows: list[Row], space: LabelSpace, schema: pa.Schema) -> None:
        self.rows = rows
        self._space = space
        self._multi = space.kind == "multilabel"
        self._schema = schema

    def prepare(self, formats: tuple[str, ...]) -> None:
        """Compute the encodings ``formats`` need now (they hold the GIL), so the writes that
        follow are mostly native code."""
        if "jsonl" in formats:
            _ = self.jsonl
        if "parquet" in formats:
            _ = self.batch
        if "csv" in formats:
            _ = self.csv_batch

    @cached_property
    def jsonl(self) -> bytes:
        dumps = orjson.dumps
        return b"".join([dumps(row, option=_LINE) for row in self.rows])

    @cached_property
    def columns(self) -> dict[str, pa.Array[Any]]:
        """Arrow arrays in schema order, built column by column (much faster than per-row)."""
        rows = self.rows
        space = self._space
        out: dict[str, pa.Array[Any]] = {}
        for field in self._schema:
            name = field.name
            if name == "soft_label":
                children = [
                    pa.array([row["soft_label"][c] for row in rows], pa.float64()) for c in space.classes
                ]
                out[name] = pa.StructArray.from_arrays(children, fields=list(field.type))
            elif name == "annotations":
                out[name] = self._annotations_array(field.type)
            else:
                out[name] = pa.array([row[name] for row in rows], field.type)
        return out

    def _annotations_array(self, list_type: pa.ListType[Any]) -> pa.Array[Any]:
        vote_type = list_type.value_type
        key = "labels" if self._multi else "label"
        offsets = [0]
        votes: list[Any] = []
        for row in self.rows:
            votes += row["annotations"]
            offsets.append(len(votes))
        annotators = [vote["annotator"] for vote in votes]
        answers = [vote[key] for vote in votes]
        values = pa.StructArray.from_arrays(
            [pa.array(annotators, vote_type.field(0).type), pa.array(answers, vote_type.field(1).type)],
            fields=list(vote_type),
        )
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=list_type)

    @cached_property
    def batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays(list(self.columns.values()), schema=self._schema)

    @cached_property
    def csv_batch(self) -> pa.RecordBatch:
        """The flat CSV view: formula-escaped text, one column per class, annotations as JSON."""
        columns = self.columns
        space = self._space
        names = ["item_id", "external_id", "split", *text_fields(space.kind)]
        arrays: list[pa.Array[Any]] = [
            columns["item_id"],
            escape_formula_array(columns["external_id"]),
            columns["split"],
            *(escape_formula_array(columns[name]) for name in text_fields(space.kind)),
        ]
        if self._multi:
            names.append("labels")
            arrays.append(cast("pa.Array[Any]", pc.binary_join(columns["labels"], "|")))
            for name in space.classes:
                names.append(f"label_{name}")
                arrays.append(pa.array([name in row["labels"] for row in self.rows]).cast(pa.int8()))
        else:
            names.append("label")
            arrays.append(columns["label"])
        soft = cast(pa.StructArray, columns["soft_label"])
        for index, name in enumerate(space.classes):
            names.append(f"soft_{name}")
            arrays.append(soft.field(index))
        names += ["quality", "annotator_count", "annotations"]
        arrays += [
            columns["quality"],
            columns["annotator_count"],
            pa.array([orjson.dumps(row["annotations"]) for row in self.rows], pa.string()),
        ]
        return pa.RecordBatch.from_arrays(arrays, names=names)


def escape_formula_array(values: pa.Array[Any]) -> pa.Array[Any]:
    """Vectorized :func:`exports.writers.escape_formula` over a string array."""
    dangerous = pc.match_substring_regex(values, FORMULA_PATTERN)
    prefixed = pc.binary_join_element_wise(pa.scalar("'"), values, pa.scalar(""))  # type: ignore[call-overload]
    return cast("pa.Array[Any]", pc.if_else(dangerous, prefixed, values))


def empty_chunk(space: LabelSpace) -> Chunk:
    """A chunk without rows: writers take their column layout from it."""
    return Chunk([], space, arrow_schema(space))
