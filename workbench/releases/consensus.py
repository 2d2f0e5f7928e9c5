"""Consensus label, soft label and quality score per item: a small registry of methods.

``majority_vote`` (``label_quality.majority_vote`` with a fixed tie-break) is computed live from
the votes. ``crowdlab`` reads the consensus label and consensus quality score that the quality
app's latest run stored per item (``workbench.quality``); an item that run did not cover, or
that has a different number of annotators now than the run counted (new answers since), gets
the live majority vote instead, and so does every item before the project's first quality run.
A method sees a chunk of items at a time and must decide each item from that item's votes
alone, or from scores stored per item: never from the rest of the chunk, so the order and size
of chunks cannot change a release. Register another with :func:`register`; a release records
the method it used, and where its labels came from, in its filter policy.

There is no stored ``majority_vote``: the quality app's majority is the same vote on the same
answers, but with ``label_quality``'s default "prior" tie-break and only as fresh as its last
run, so the live one is kept.

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
from workbench.quality.selectors import stored_consensus

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


def crowdlab(kind: str, classes: tuple[str, ...], items: Sequence[ItemVotes]) -> list[Consensus]:
    """The quality app's stored CROWDLAB label and consensus quality score; the soft label is
    still the annotators' shares. Items without a current stored one: live majority vote."""
    live = majority_vote(kind, classes, items)
    stored = stored_consensus(item_ids=[item.item_id for item in items], method="crowdlab")
    out = []
    for item, fallback in zip(items, live, strict=True):
        found = stored.get(item.item_id)
        if found is None or found.label is None or found.n_annotations != len(item.votes):
            out.append(fallback)
            continue
        label: Label = str(found.label)
        if kind == "multilabel":
            label = tuple(name for name in classes if name in found.label)
        out.append(Consensus(label=label, soft_label=fallback.soft_label, quality=found.quality))
    return out


_METHODS: dict[str, Method] = {"majority_vote": majority_vote, "crowdlab": crowdlab}
# Methods that read what the quality app stored, falling back to FALLBACK_METHOD.
_STORED = {"crowdlab"}
FALLBACK_METHOD = "majority_vote"


def register(name: str, method: Method, *, stored: bool = False) -> None:
    """Add a consensus method; ``stored``: it reads the quality app's stored results and falls
    back to the live majority vote (the release's policy then names the quality run)."""
    _METHODS[name] = method
    if stored:
        _STORED.add(name)


def source(name: str, quality_run: int | None) -> str:
    """Where a release's labels come from, in words, for its filter policy."""
    if name not in _STORED:
        return f"live {name}"
    if quality_run is None:
        return f"no quality run yet: live {FALLBACK_METHOD} for every item"
    return (
        f"{name} stored by quality run {quality_run}; live {FALLBACK_METHOD} for items that run "
        "did not cover or that got new annotations since"
    )


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
