"""Consensus label, soft label and quality score per item: a small registry of methods.

``majority_vote`` is the vote policy's consensus (:func:`workbench.votes.consensus`), computed
live from the votes, under the kind's consensus tie rule: binary ties go to ``toxic`` and a
multi-label category ticked by half goes in (``toward_toxic``, the conservative side for safety
data); a preference vote split at the top becomes ``tie`` (kept out of TRL files). It is the
same label the quality dashboard shows as the majority and judges label issues on.
``crowdlab`` reads the consensus label and consensus quality score that the quality app's
latest run stored per item (``workbench.quality``); an item that run did not cover, or that has
a different number of annotators now than the run counted (new answers since), gets the live
majority vote instead, and so does every item before the project's first quality run. A method
sees a chunk of items at a time and must decide each item from that item's votes alone, or from
scores stored per item: never from the rest of the chunk, so the order and size of chunks cannot
change a release. Register another with :func:`register`; a release records the method it used,
and where its labels came from, in its filter policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workbench import votes
from workbench.errors import ValidationFailed
from workbench.projects.kinds import KindSpec, Label
from workbench.quality.selectors import stored_consensus


@dataclass(frozen=True)
class ItemVotes:
    """One item's counted votes: ``(annotator pseudonym, label)``, one per annotator."""

    item_id: int
    votes: tuple[tuple[str, Label], ...]


@dataclass(frozen=True)
class Consensus:
    label: Label
    soft_label: dict[str, float]
    quality: float | None


# (kind, items) -> one Consensus per item, in order.
Method = Callable[[KindSpec, Sequence[ItemVotes]], list[Consensus]]


def majority_vote(spec: KindSpec, items: Sequence[ItemVotes]) -> list[Consensus]:
    out = []
    for item in items:
        labels = [label for _, label in item.votes]
        label = votes.consensus(spec, labels)
        if label is None:  # the consensus rules never abstain; a registered rule might
            raise ValidationFailed(f"Item {item.item_id}: the votes give no {spec.kind} label.")
        share, quality = votes.shares(spec, labels), votes.agreement(spec, labels)
        out.append(Consensus(label=label, soft_label=share, quality=quality))
    return out


def crowdlab(spec: KindSpec, items: Sequence[ItemVotes]) -> list[Consensus]:
    """The quality app's stored CROWDLAB label and consensus quality score; the soft label is
    still the annotators' shares. Items without a current stored one: live majority vote."""
    live = majority_vote(spec, items)
    stored = stored_consensus(item_ids=[item.item_id for item in items], method="crowdlab")
    out = []
    for item, fallback in zip(items, live, strict=True):
        found = stored.get(item.item_id)
        if found is None or found.label is None or found.n_annotations != len(item.votes):
            out.append(fallback)
            continue
        label: Label = str(found.label)
        if spec.multiple:
            label = tuple(name for name in spec.labels if name in found.label)
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
