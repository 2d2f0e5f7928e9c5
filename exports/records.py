"""Release records: what the Django side hands to :func:`exports.build_release`.

One frozen dataclass per project kind, so each kind's fields are typed instead of optional:

* ``"binary"``     -> :class:`BinaryRecord`      (text, one consensus class)
* ``"multilabel"`` -> :class:`MultiLabelRecord`  (text, a set of consensus classes, maybe empty)
* ``"preference"`` -> :class:`PreferenceRecord`  (prompt, two responses, ``"A" | "B" | "tie"``;
  from a graded labeling config also the consensus ``strength``)

Records carry no split: the builder assigns it from the keyed hash of ``item_id``.
Annotator ids must already be pseudonyms made with :func:`exports.pseudonymize`; real ids are
refused at the boundary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

from exports.errors import ReleaseInputError

ProjectKind = Literal["binary", "multilabel", "preference"]
PROJECT_KINDS: tuple[str, ...] = get_args(ProjectKind)

DEFAULT_CLASSES: dict[str, tuple[str, ...]] = {
    "binary": ("toxic", "non-toxic"),
    "multilabel": ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"),
    "preference": ("A", "B", "tie"),
}
# The top of a graded preference scale (workbench's 7-point config: 0 tie .. 3 "much better").
MAX_STRENGTH = 3.0
_CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class Vote:
    """One annotator's answer on a single-choice item (binary or preference)."""

    annotator: str
    label: str


@dataclass(frozen=True, slots=True)
class MultiLabelVote:
    """One annotator's ticked classes on a multi-label item (empty tuple: "clean")."""

    annotator: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BinaryRecord:
    """``soft_label`` maps every class to the fraction of annotators who chose it (sums to 1).
    ``quality`` is the label quality score in [0, 1] or None when not computed."""

    item_id: int
    external_id: str
    text: str
    label: str
    soft_label: Mapping[str, float]
    annotations: tuple[Vote, ...] = ()
    quality: float | None = None


@dataclass(frozen=True, slots=True)
class MultiLabelRecord:
    """``labels`` are the consensus classes (empty: clean). ``soft_label`` maps every class to
    the fraction of annotators who ticked it (each in [0, 1], no sum constraint)."""

    item_id: int
    external_id: str
    text: str
    labels: tuple[str, ...]
    soft_label: Mapping[str, float]
    annotations: tuple[MultiLabelVote, ...] = ()
    quality: float | None = None


@dataclass(frozen=True, slots=True)
class PreferenceRecord:
    """``label`` is the consensus preference: ``"A"`` (response_a better), ``"B"`` or ``"tie"``.
    ``strength``: in a graded release (:attr:`LabelSpace.graded`), how much better the chosen
    response is on the annotators' scale (0..``MAX_STRENGTH``; None for a tie); None otherwise.
    It becomes TRL's ``margin``."""

    item_id: int
    external_id: str
    prompt: str
    response_a: str
    response_b: str
    label: str
    soft_label: Mapping[str, float]
    annotations: tuple[Vote, ...] = ()
    quality: float | None = None
    strength: float | None = None


ReleaseRecord = BinaryRecord | MultiLabelRecord | PreferenceRecord
RECORD_TYPES: dict[str, type] = {
    "binary": BinaryRecord,
    "multilabel": MultiLabelRecord,
    "preference": PreferenceRecord,
}


@dataclass(frozen=True)
class LabelSpace:
    """The project kind and its ordered class names (order fixes column order in files).
    ``graded``: a preference release whose records carry a consensus ``strength`` (a
    ``strength`` column in every file, ``margin`` in the TRL files)."""

    kind: ProjectKind
    classes: tuple[str, ...] = field(default=())
    graded: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PROJECT_KINDS:
            raise ReleaseInputError(
                f"unknown project kind {self.kind!r}; valid kinds: {', '.join(PROJECT_KINDS)}",
                field="kind",
            )
        if self.graded is not False and (self.graded is not True or self.kind != "preference"):
            raise ReleaseInputError(
                f"graded applies to preference releases only (a bool), got {self.graded!r} for {self.kind!r}",
                field="graded",
            )
        if not self.classes:
            object.__setattr__(self, "classes", DEFAULT_CLASSES[self.kind])
        classes = tuple(self.classes)
        object.__setattr__(self, "classes", classes)
        if self.kind == "preference" and classes != DEFAULT_CLASSES["preference"]:
            raise ReleaseInputError(
                f"preference classes are fixed to ('A', 'B', 'tie'), got {classes!r}",
                field="classes",
            )
        if self.kind == "binary" and len(classes) != 2:
            raise ReleaseInputError(
                f"a binary project needs exactly 2 classes, got {classes!r}", field="classes"
            )
        if len(set(classes)) != len(classes):
            raise ReleaseInputError(f"duplicate class names in {classes!r}", field="classes")
        for name in classes:
            if not isinstance(name, str) or _CLASS_NAME.fullmatch(name) is None:
                raise ReleaseInputError(
                    f"class name {name!r} must match {_CLASS_NAME.pattern} (it becomes a column name)",
                    field="classes",
                )


def label_space(kind: str, classes: Sequence[str] | None = None, *, graded: bool = False) -> LabelSpace:
    """Build a validated :class:`LabelSpace` from plain arguments."""
    if kind not in PROJECT_KINDS:
        raise ReleaseInputError(
            f"unknown project kind {kind!r}; valid kinds: {', '.join(PROJECT_KINDS)}",
            field="kind",
        )
    return LabelSpace(kind=cast(ProjectKind, kind), classes=tuple(classes or ()), graded=graded)
