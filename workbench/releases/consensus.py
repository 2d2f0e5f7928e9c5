"""Consensus label, soft label and quality score per item: a small registry of methods.

``majority_vote`` (``label_quality.majority_vote`` with a fixed tie-break) is the only method
today. A method sees a chunk of items at a time and must decide each item from that item's
votes alone, or from scores stored elsewhere (CROWDLAB's consensus quality, once it is
computed and stored per item): never from the rest of the chunk, so the order and size of
chunks cannot change a release. Register another with :func:`register`; a release records
the method it used in its filter policy.

Tie-breaks are fixed per kind so an item's label never flips because *other* items got
votes (``label_quality``'s default "prior" tie-break would do that): binary ties go to
``toxic`` (the conservative side for safety data), multi-label ties to "present", and a
preference vote split between A and B becomes ``tie`` (kept out of TRL files).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.errors import ValidationFailed

Label = str | tuple[str, ...]


@dataclass(frozen=True)
class ItemVotes:
    """One item's non-skipped votes: ``(annotator pseudonym, label)``, one per annotator."""

    item_id: int
    votes: tuple[tuple[str, Label], ...]


@dataclass(frozen=True)
class Consensus:
    label: Label
    soft_label: dict[str, float]
    quality: float | None


# (kind, classes, items) -> one Consensus per item, in order. ``kind`` is the exports kind.
Method = Callable[[str, tuple[str, ...], Sequence[ItemVotes]], list[Consensus]]


def majority_vote(kind: str, classes: tuple[str, ...], items: Sequence[ItemVotes]) -> list[Consensus]:
    from label_quality import majority_vote as vote
    from label_quality import multilabel_consensus

    if not items:
        return []
    width = max(len(item.votes) for item in items)
    if kind == "multilabel":
        # (n_items, vote slot, n_labels) of 0/1, NaN where the item has fewer votes.
        ticks = np.full((len(items), width, len(classes)), np.nan)
        for row, item in enumerate(items):
            for slot, (_, labels) in enumerate(item.votes):
                ticks[row, slot, :] = [1.0 if name in labels else 0.0 for name in classes]
        per_label = multilabel_consensus(ticks, method="majority_vote", tie_break=[1, 0])
        present = np.column_stack([result.labels == 1 for result in per_label])
        quality = np.column_stack([result.item_quality for result in per_label]).mean(axis=1)
        share = np.nanmean(ticks, axis=1)
        return [
            Consensus(
                label=tuple(name for name, on in zip(classes, present[row], strict=True) if on),
                soft_label={name: float(share[row, j]) for j, name in enumerate(classes)},
                quality=float(quality[row]),
            )
            for row in range(len(items))
        ]
    codes = {name: code for code, name in enumerate(classes)}
    ratings = np.full((len(items), width), np.nan)
    for row, item in enumerate(items):
        for slot, (_, label) in enumerate(item.votes):
            ratings[row, slot] = codes[str(label)]
    # Binary: toxic first. Preference: "tie" first, and an A/B split is made a tie below.
    order = [codes[name] for name in (("tie", "A", "B") if kind == "preference" else classes)]
    result = vote(ratings, len(classes), tie_break=order)
    out = []
    for row in range(len(items)):
        counts = np.bincount(ratings[row][~np.isnan(ratings[row])].astype(np.int64), minlength=len(classes))
        total = int(counts.sum())
        label = classes[int(result.labels[row])]
        if kind == "preference" and counts[codes["A"]] == counts[codes["B"]] == counts.max():
            label = "tie"
        out.append(
            Consensus(
                label=label,
                soft_label={name: int(counts[code]) / total for name, code in codes.items()},
                quality=float(result.item_quality[row]),
            )
        )
    return out


_METHODS: dict[str, Method] = {"majority_vote": majority_vote}
DEFAULT_METHOD = "majority_vote"


def register(name: str, method: Method) -> None:
    """Add a consensus method (e.g. ``"crowdlab"``, reading stored CROWDLAB scores)."""
    _METHODS[name] = method


def method_names() -> tuple[str, ...]:
    return tuple(sorted(_METHODS))


def get(name: str) -> Method:
    try:
        return _METHODS[name]
    except KeyError:
        raise ValidationFailed(
            f"Unknown consensus method {name!r}; valid: {', '.join(method_names())}.",
            extra={"valid": list(method_names())},
        ) from None
