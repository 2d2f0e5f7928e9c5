"""Validate release records and turn them into plain row dicts with a fixed column order.

A row is what every file format writes: JSONL writes it as is, Parquet through the kind's
explicit Arrow schema, CSV flattened (see :mod:`exports.writers`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn

import pyarrow as pa

from exports.errors import ReleaseInputError
from exports.keys import PSEUDONYM_PATTERN
from exports.records import (
    RECORD_TYPES,
    LabelSpace,
    MultiLabelRecord,
    MultiLabelVote,
    ReleaseRecord,
    Vote,
)

Row = dict[str, Any]
SOFT_LABEL_SUM_TOLERANCE = 1e-6
_MAX_ITEM_ID = (1 << 63) - 1


def text_fields(kind: str) -> tuple[str, ...]:
    return ("prompt", "response_a", "response_b") if kind == "preference" else ("text",)


def label_field(kind: str) -> str:
    """The consensus column: ``labels`` (a list) for multilabel, ``label`` otherwise."""
    return "labels" if kind == "multilabel" else "label"


def arrow_schema(space: LabelSpace) -> pa.Schema:
    """The explicit Parquet schema of a kind; column order equals the row dict's key order."""
    kind = space.kind
    text = [pa.field(name, pa.string(), nullable=False) for name in text_fields(kind)]
    soft = pa.struct([pa.field(name, pa.float64(), nullable=False) for name in space.classes])
    consensus: pa.Field[Any]
    if kind == "multilabel":
        consensus = pa.field("labels", pa.list_(pa.string()), nullable=False)
        vote = pa.struct(
            [
                pa.field("annotator", pa.string(), nullable=False),
                pa.field("labels", pa.list_(pa.string()), nullable=False),
            ]
        )
    else:
        consensus = pa.field("label", pa.string(), nullable=False)
        vote = pa.struct(
            [
                pa.field("annotator", pa.string(), nullable=False),
                pa.field("label", pa.string(), nullable=False),
            ]
        )
    fields: list[pa.Field[Any]] = [
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("external_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        *text,
        consensus,
        pa.field("soft_label", soft, nullable=False),
        pa.field("quality", pa.float64(), nullable=True),
        pa.field("annotator_count", pa.int32(), nullable=False),
        pa.field("annotations", pa.list_(vote), nullable=False),
    ]
    return pa.schema(fields)


class RowMaker:
    """Checks one record against the label space and returns its row.

    Raises :class:`ReleaseInputError` naming the record's position, ``item_id`` and field.
    Annotations are sorted by annotator and multilabel classes put in class order, so the
    output does not depend on the order the database returned them in.
    """

    def __init__(self, space: LabelSpace) -> None:
        self.space = space
        self._record_type = RECORD_TYPES[space.kind]
        self._classes = space.classes
        self._class_set = frozenset(space.classes)
        self._class_rank = {name: rank for rank, name in enumerate(space.classes)}
        self._text_fields = text_fields(space.kind)

    def __call__(self, record: ReleaseRecord, index: int, split: str) -> Row:
        if type(record) is not self._record_type:
            _fail(
                index,
                getattr(record, "item_id", None),
                "record",
                f"must be a {self._record_type.__name__} for a {self.space.kind!r} project, "
                f"got {type(record).__name__}",
            )
        item_id = record.item_id
        row: Row = {
            "item_id": item_id,
            "external_id": self._string(record.external_id, index, item_id, "external_id"),
            "split": split,
        }
        for name in self._text_fields:
            row[name] = self._string(getattr(record, name), index, item_id, name)
        if isinstance(record, MultiLabelRecord):
            row["labels"] = self._label_set(record.labels, index, item_id, "labels")
        else:
            row["label"] = self._label(record.label, index, item_id, "label")
        row["soft_label"] = self._soft_label(record.soft_label, index, item_id)
        row["quality"] = self._quality(record.quality, index, item_id)
        annotations = self._annotations(record, index, item_id)
        row["annotator_count"] = len(annotations)
        row["annotations"] = annotations
        return row

    @staticmethod
    def check_item_id(item_id: object, index: int) -> int:
        if type(item_id) is not int or not 0 <= item_id <= _MAX_ITEM_ID:
            _fail(index, item_id, "item_id", "must be a non-negative 64-bit int")
        return item_id

    @staticmethod
    def _string(value: object, index: int, item_id: int, name: str) -> str:
        if not isinstance(value, str):
            _fail(index, item_id, name, f"must be a str, got {type(value).__name__}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            _fail(index, item_id, name, f"is not valid UTF-8 text ({exc.reason} at {exc.start})")
        return value

    def _label(self, value: object, index: int, item_id: int, name: str) -> str:
        if value not in self._class_set:
            _fail(index, item_id, name, f"{value!r} is not one of {list(self._classes)}")
        return str(value)

    def _label_set(self, value: object, index: int, item_id: int, name: str) -> list[str]:
        if not isinstance(value, (tuple, list, frozenset, set)):
            _fail(index, item_id, name, f"must be a tuple of class names, got {value!r}")
        labels = list(value)
        for label in labels:
            self._label(label, index, item_id, name)
        if len(set(labels)) != len(labels):
            _fail(index, item_id, name, f"repeats a class: {sorted(labels)!r}")
        return sorted(labels, key=self._class_rank.__getitem__)

    def _soft_label(self, value: object, index: int, item_id: int) -> dict[str, float]:
        if not isinstance(value, Mapping) or set(value) != self._class_set:
            keys = sorted(value) if isinstance(value, Mapping) else value
            _fail(
                index,
                item_id,
                "soft_label",
                f"must map exactly the classes {list(self._classes)} to fractions, got {keys!r}",
            )
        soft: dict[str, float] = {}
        for name in self._classes:
            fraction = value[name]
            if (
                isinstance(fraction, bool)
                or not isinstance(fraction, (int, float))
                or not 0.0 <= fraction <= 1.0  # also refuses NaN
            ):
                _fail(index, item_id, "soft_label", f"[{name!r}] = {fraction!r} is not in [0, 1]")
            soft[name] = float(fraction)
        if self.space.kind != "multilabel":
            total = math.fsum(soft.values())
            if abs(total - 1.0) > SOFT_LABEL_SUM_TOLERANCE:
                _fail(index, item_id, "soft_label", f"fractions sum to {total!r}, not 1")
        return soft

    @staticmethod
    def _quality(value: object, index: int, item_id: int) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            _fail(index, item_id, "quality", f"must be None or a number in [0, 1], got {value!r}")
        return float(value)

    def _annotations(self, record: ReleaseRecord, index: int, item_id: int) -> list[Row]:
        votes = record.annotations
        if not isinstance(votes, (tuple, list)):
            _fail(index, item_id, "annotations", f"must be a tuple, got {type(votes).__name__}")
        multi = isinstance(record, MultiLabelRecord)
        vote_type = MultiLabelVote if multi else Vote
        out: list[Row] = []
        for position, vote in enumerate(votes):
            where = f"annotations[{position}]"
            if type(vote) is not vote_type:
                _fail(index, item_id, where, f"must be a {vote_type.__name__}, got {vote!r}")
            annotator = vote.annotator
            if not isinstance(annotator, str) or PSEUDONYM_PATTERN.fullmatch(annotator) is None:
                _fail(
                    index,
                    item_id,
                    f"{where}.annotator",
                    f"{annotator!r} is not a pseudonym; pass exports.pseudonymize(user_id, salt)",
                )
            if isinstance(vote, MultiLabelVote):
                labels = self._label_set(vote.labels, index, item_id, f"{where}.labels")
                out.append({"annotator": annotator, "labels": labels})
            else:
                label = self._label(vote.label, index, item_id, f"{where}.label")
                out.append({"annotator": annotator, "label": label})
        out.sort(key=_by_annotator)
        for before, after in zip(out, out[1:], strict=False):
            if before["annotator"] == after["annotator"]:
                _fail(index, item_id, "annotations", f"{before['annotator']} appears twice")
        return out


def preference_pair(row: Row) -> tuple[str, str] | None:
    """(chosen, rejected) of a preference row, or None for a tie."""
    if row["label"] == "A":
        return row["response_a"], row["response_b"]
    if row["label"] == "B":
        return row["response_b"], row["response_a"]
    return None


def _by_annotator(vote: Row) -> str:
    return str(vote["annotator"])


def _fail(index: int, item_id: object, name: str, problem: str) -> NoReturn:
    raise ReleaseInputError(
        f"record #{index} (item_id={item_id!r}): {name} {problem}",
        index=index,
        item_id=item_id,
        field=name,
    )


__all__ = ["Row", "RowMaker", "arrow_schema", "label_field", "preference_pair", "text_fields"]
