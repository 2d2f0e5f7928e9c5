"""Serialization of row chunks: JSON lines and Arrow columns.

Per-record Python work dominates a million-row release, so a chunk of rows is turned into
columns once and every format reuses them: Parquet writes the Arrow arrays, CSV writes a flat
view of the same arrays through Arrow's C++ CSV writer, and JSON lines come from orjson (several
times faster than the standard library; compact, UTF-8, keys in row order, deterministic).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

import numpy as np
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
        """Compute the encodings ``formats`` need now, so the writes that follow are mostly
        native code. (The CSV view's Arrow kernels release the GIL, but computed on the writer
        thread they cost more, in CPU and wall time, than here: each kernel call takes the GIL
        back from the busy reader.)"""
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
        out: dict[str, pa.Array[Any]] = {}
        for field in self._schema:
            name = field.name
            if name == "soft_label":  # Arrow converts the dicts to the struct in C++
                out[name] = pa.array([row["soft_label"] for row in rows], field.type)
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
            names += [f"label_{name}" for name in space.classes]
            arrays += _membership_columns(cast("pa.ListArray[Any]", columns["labels"]), space.classes)
        else:
            names.append("label")
            arrays.append(columns["label"])
            if space.graded:
                names.append("strength")
                arrays.append(columns["strength"])
        soft = cast(pa.StructArray, columns["soft_label"])
        for index, name in enumerate(space.classes):
            names.append(f"soft_{name}")
            arrays.append(soft.field(index))
        names += ["quality", "annotator_count", "annotations"]
        arrays += [
            columns["quality"],
            columns["annotator_count"],
            _annotations_json(cast("pa.ListArray[Any]", columns["annotations"]), self._multi),
        ]
        return pa.RecordBatch.from_arrays(arrays, names=names)


def _membership_columns(labels: pa.ListArray[Any], classes: tuple[str, ...]) -> list[pa.Array[Any]]:
    """One int8 0/1 column per class: whether the row's label list holds it (no per-row Python)."""
    flat = labels.flatten()
    parents = pc.list_parent_indices(labels).to_numpy()
    out: list[pa.Array[Any]] = []
    for name in classes:
        column = np.zeros(len(labels), dtype=np.int8)
        column[parents[pc.equal(flat, pa.scalar(name)).to_numpy(zero_copy_only=False)]] = 1
        out.append(pa.array(column))
    return out


def _annotations_json(annotations: pa.ListArray[Any], multi: bool) -> pa.Array[Any]:
    """The CSV's ``annotations`` cell, the same bytes as ``orjson.dumps(row["annotations"])``,
    assembled by Arrow string kernels instead of one orjson call per row.

    Nothing needs JSON escaping: annotators are validated pseudonyms (``ann_`` + hex) and labels
    validated class names (``[A-Za-z0-9_-]``), so quoting them is enough."""
    compute: Any = pc  # pyarrow-stubs 20 type these kernels too narrowly for scalar + array mixes
    votes = cast(pa.StructArray, annotations.values)

    def concat(*parts: object) -> Any:
        return compute.binary_join_element_wise(
            *(pa.scalar(p) if isinstance(p, str) else p for p in parts), ""
        )

    if multi:
        labels = votes.field(1)
        quoted = concat('["', compute.binary_join(labels, '","'), '"]')
        answer = compute.if_else(compute.greater(compute.list_value_length(labels), 0), quoted, "[]")
        vote = concat('{"annotator":"', votes.field(0), '","labels":', answer, "}")
    else:
        vote = concat('{"annotator":"', votes.field(0), '","label":"', votes.field(1), '"}')
    per_row = pa.ListArray.from_arrays(annotations.offsets, vote)
    return cast("pa.Array[Any]", concat("[", compute.binary_join(per_row, ","), "]"))


def escape_formula_array(values: pa.Array[Any]) -> pa.Array[Any]:
    """Vectorized :func:`exports.writers.escape_formula` over a string array."""
    dangerous = pc.match_substring_regex(values, FORMULA_PATTERN)
    prefixed = pc.binary_join_element_wise(pa.scalar("'"), values, pa.scalar(""))  # type: ignore[call-overload]
    return cast("pa.Array[Any]", pc.if_else(dangerous, prefixed, values))


def empty_chunk(space: LabelSpace) -> Chunk:
    """A chunk without rows: writers take their column layout from it."""
    return Chunk([], space, arrow_schema(space))
