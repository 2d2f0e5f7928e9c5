"""Validate release records and turn them into plain row dicts with a fixed column order.

A row is what every file format writes: JSONL writes it as is, Parquet through the kind's
explicit Arrow schema, CSV flattened (see :mod:`exports.writers`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, NoReturn, cast

import pyarrow as pa

from exports.errors import ReleaseInputError
from exports.keys import PSEUDONYM_PATTERN
from exports.records import (
    MAX_STRENGTH,
    RECORD_TYPES,
    BinaryRecord,
    LabelSpace,
    MultiLabelRecord,
    MultiLabelVote,
    PreferenceRecord,
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
        *([pa.field("strength", pa.float64(), nullable=True)] if space.graded else []),
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
        self._multi = space.kind == "multilabel"
        self._graded = space.graded
        self._vote_type: type = MultiLabelVote if self._multi else Vote
        # Validated values seen before, so the common case is a dictionary lookup. Label sets
        # are bounded by 2**classes; annotators are already kept for the manifest's count.
        self._label_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._annotators: set[str] = set()

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
        external_id = record.external_id
        if type(external_id) is not str or not external_id.isascii():
            self._string(external_id, index, item_id, "external_id")
        row: Row = {"item_id": item_id, "external_id": external_id, "split": split}
        for name in self._text_fields:
            text = getattr(record, name)
            if type(text) is not str or not text.isascii():  # isascii is O(1)
                self._string(text, index, item_id, name)
            row[name] = text
        if self._multi:
            labels = cast(MultiLabelRecord, record).labels  # the type check above proved it
            row["labels"] = self._label_set(labels, index, item_id, "labels")
        else:
            label = cast("BinaryRecord | PreferenceRecord", record).label
            if type(label) is not str or label not in self._class_set:
                self._label(label, index, item_id, "label")
            row["label"] = label
            if self._graded:
                row["strength"] = self._strength(cast(PreferenceRecord, record), index, item_id)
        row["soft_label"] = self._soft_label(record.soft_label, index, item_id)
        quality = record.quality
        if quality is not None and (type(quality) is not float or not 0.0 <= quality <= 1.0):
            quality = self._quality(quality, index, item_id)  # ints become floats; bad values raise
        row["quality"] = quality
        annotations = self._annotations(record, index, item_id)
        row["annotator_count"] = len(annotations)
        row["annotations"] = annotations
        return row

    @property
    def annotator_count(self) -> int:
        """Distinct annotator pseudonyms seen in the rows made so far."""
        return len(self._annotators)

    @staticmethod
    def check_item_id(item_id: object, index: int) -> int:
        if type(item_id) is not int or not 0 <= item_id <= _MAX_ITEM_ID:
            _fail(index, item_id, "item_id", "must be a non-negative 64-bit int")
        return item_id

    @staticmethod
    def _string(value: object, index: int, item_id: int, name: str) -> str:
        if not isinstance(value, str):
            _fail(index, item_id, name, f"must be a str, got {type(value).__name__}")
        if not value.isascii():  # O(1); only non-ASCII text can hold a lone surrogate
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                _fail(index, item_id, name, f"is not valid UTF-8 text ({exc.reason} at {exc.start})")
        return value

    def _label(self, value: object, index: int, item_id: int, name: str) -> str:
        if not isinstance(value, str) or value not in self._class_set:
            _fail(index, item_id, name, f"{value!r} is not one of {list(self._classes)}")
        return str(value)

    def _label_set(self, value: object, index: int, item_id: int, name: str) -> tuple[str, ...]:
        if type(value) is tuple:
            known = self._label_sets.get(value)
            if known is not None:
                return known
        if not isinstance(value, (tuple, list, frozenset, set)):
            _fail(index, item_id, name, f"must be a tuple of class names, got {value!r}")
        labels = list(value)
        for label in labels:
            self._label(label, index, item_id, name)
        if len(set(labels)) != len(labels):
            _fail(index, item_id, name, f"repeats a class: {sorted(labels)!r}")
        canonical = tuple(sorted(labels, key=self._class_rank.__getitem__))
        if type(value) is tuple:
            self._label_sets[value] = canonical
        return canonical

    def _soft_label(self, value: object, index: int, item_id: int) -> dict[str, float]:
        classes = self._classes
        # Common case: a plain dict already in class order (the key comparison is one C call).
        # A copy, so a caller that reuses its dict cannot change rows still waiting to be written.
        if type(value) is dict and tuple(value) == classes:
            soft: dict[str, float] = dict(value)
            for share in soft.values():
                if type(share) is not float or not 0.0 <= share <= 1.0:  # NaN fails too
                    break
            else:
                if not self._multi:
                    total = math.fsum(soft.values())
                    if abs(total - 1.0) > SOFT_LABEL_SUM_TOLERANCE:
                        _fail(index, item_id, "soft_label", f"fractions sum to {total!r}, not 1")
                return soft
        soft = {}
        # Same length and every class present means exactly the classes: no set to build.
        if isinstance(value, Mapping) and len(value) == len(classes):
            for name in classes:
                fraction: Any = value.get(name)
                kind = type(fraction)
                if (kind is not float and kind is not int) or not 0.0 <= fraction <= 1.0:
                    break  # missing, wrong type, out of range or NaN: the slow path says which
                soft[name] = fraction if kind is float else float(fraction)
        if len(soft) != len(classes):
            self._bad_soft_label(value, index, item_id)
        if not self._multi:
            total = math.fsum(soft.values())
            if abs(total - 1.0) > SOFT_LABEL_SUM_TOLERANCE:
                _fail(index, item_id, "soft_label", f"fractions sum to {total!r}, not 1")
        return soft

    def _bad_soft_label(self, value: object, index: int, item_id: int) -> NoReturn:
        classes = self._classes
        if not isinstance(value, Mapping) or set(value) != self._class_set:
            keys = sorted(value) if isinstance(value, Mapping) else value
            _fail(
                index,
                item_id,
                "soft_label",
                f"must map exactly the classes {list(classes)} to fractions, got {keys!r}",
            )
        for name in classes:
            fraction = value[name]
            if (
                isinstance(fraction, bool)
                or not isinstance(fraction, (int, float))
                or not 0.0 <= fraction <= 1.0
            ):
                _fail(index, item_id, "soft_label", f"[{name!r}] = {fraction!r} is not in [0, 1]")
        raise AssertionError("unreachable: the fast path rejected a valid soft label")

    @staticmethod
    def _strength(record: PreferenceRecord, index: int, item_id: int) -> float | None:
        """A graded pair's consensus strength: a number in [0, MAX_STRENGTH] for A or B, None
        for a tie (a tie has no chosen side to be better by)."""
        value = record.strength
        if record.label == "tie":
            if value is not None:
                _fail(index, item_id, "strength", f"must be None for a tie, got {value!r}")
            return None
        kind = type(value)
        if (kind is not float and kind is not int) or not 0 <= value <= MAX_STRENGTH:  # type: ignore[operator]
            _fail(
                index,
                item_id,
                "strength",
                f"must be a number in [0, {MAX_STRENGTH:g}] for a graded {record.label!r} pair, "
                f"got {value!r}",
            )
        return float(value)  # type: ignore[arg-type]

    @staticmethod
    def _quality(value: object, index: int, item_id: int) -> float | None:
        if value is None:
            return None
        kind = type(value)
        if (kind is not float and kind is not int) or not 0 <= value <= 1:  # type: ignore[operator]
            _fail(index, item_id, "quality", f"must be None or a number in [0, 1], got {value!r}")
        return float(value)  # type: ignore[arg-type]

    def _annotations(self, record: ReleaseRecord, index: int, item_id: int) -> list[Row]:
        """The votes as ``{"annotator", "label"|"labels"}`` dicts sorted by annotator, with
        multilabel classes in class order. (Plain dicts: orjson writes them several times
        faster than dataclasses.)"""
        votes = record.annotations
        if not isinstance(votes, (tuple, list)):
            _fail(index, item_id, "annotations", f"must be a tuple, got {type(votes).__name__}")
        known = self._annotators
        vote_type: Any = self._vote_type  # Any: an `is` test against a plain `type` narrows to object
        items: Sequence[Any] = votes
        out: list[Row] = []
        append = out.append
        if self._multi:
            label_sets = self._label_sets
            for vote in items:
                try:
                    canonical = label_sets.get(vote.labels) if type(vote) is vote_type else None
                except TypeError:  # unhashable labels, e.g. a list
                    canonical = None
                if canonical is None or vote.annotator not in known:
                    self._bad_vote(votes, index, item_id)  # raises, or learns the new values
                    canonical = label_sets[vote.labels]
                append({"annotator": vote.annotator, "labels": canonical})
        else:
            class_set = self._class_set
            for vote in items:
                if (
                    type(vote) is not vote_type
                    or vote.annotator not in known
                    or type(vote.label) is not str
                    or vote.label not in class_set
                ):
                    self._bad_vote(votes, index, item_id)
                append({"annotator": vote.annotator, "label": vote.label})
        if len(out) > 1:
            out.sort(key=_by_annotator)
            previous = None
            for entry in out:
                if entry["annotator"] == previous:
                    _fail(index, item_id, "annotations", f"{previous} appears twice")
                previous = entry["annotator"]
        return out

    def _bad_vote(self, votes: Sequence[object], index: int, item_id: int) -> None:
        """The slow path: find the first bad vote and raise naming it. Returns only when every
        vote is fine, after caching new multilabel label sets (the fast path then finds them)."""
        for position, raw in enumerate(votes):
            where = f"annotations[{position}]"
            if type(raw) is not self._vote_type:
                _fail(index, item_id, where, f"must be a {self._vote_type.__name__}, got {raw!r}")
            annotator = getattr(raw, "annotator", None)
            if not isinstance(annotator, str) or PSEUDONYM_PATTERN.fullmatch(annotator) is None:
                _fail(
                    index,
                    item_id,
                    f"{where}.annotator",
                    f"{annotator!r} is not a pseudonym; pass exports.pseudonymize(user_id, salt)",
                )
            self._annotators.add(annotator)
            if isinstance(raw, MultiLabelVote):
                canonical = self._label_set(raw.labels, index, item_id, f"{where}.labels")
                if type(raw.labels) is not tuple:
                    _fail(index, item_id, f"{where}.labels", f"must be a tuple, got {raw.labels!r}")
                self._label_sets[raw.labels] = canonical
            elif isinstance(raw, Vote):
                self._label(raw.label, index, item_id, f"{where}.label")


def preference_pair(row: Row) -> tuple[str, str] | None:
    """(chosen, rejected) of a preference row, or None for a tie."""
    if row["label"] == "A":
        return row["response_a"], row["response_b"]
    if row["label"] == "B":
        return row["response_b"], row["response_a"]
    return None


_by_annotator = itemgetter("annotator")


def _fail(index: int, item_id: object, name: str, problem: str) -> NoReturn:
    raise ReleaseInputError(
        f"record #{index} (item_id={item_id!r}): {name} {problem}",
        index=index,
        item_id=item_id,
        field=name,
    )


__all__ = ["Row", "RowMaker", "arrow_schema", "label_field", "preference_pair", "text_fields"]
