"""The vote policy: which answers count, and how a tie breaks. Every app reads labels through here
(the quality dashboard and its label issues, review settlement, rounds, releases).

Which answers count: per item, each annotator's newest answer that is not cancelled and carries a
label this kind can hold. "Newest" is one ordering key for everybody: the time Label Studio last
updated the annotation (its creation time where Label Studio gave none), then the Label Studio
annotation id, which Label Studio assigns in increasing order. The stored fields come from Label
Studio itself, not from the order webhooks happened to arrive in, so a late delivery of an old
update cannot win. A review answer is a newer answer of the same annotator on the same item, so
it replaces their earlier one.

How a tie breaks is a named rule (:class:`TieRule`); an item's label depends only on its own
votes, never on other items (no class-frequency "prior"). Which consumer uses which rule is in
the README ("Which votes count"); the kind's default rules are in its
:class:`~workbench.projects.kinds.KindSpec`.
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from workbench.annotations.models import Annotation
from workbench.projects.kinds import KindSpec, Label
from workbench.projects.models import Project


class TieRule(enum.StrEnum):
    # Training targets: a tie is no label (a coin-flip target only teaches the model noise).
    ABSTAIN = "abstain"
    # Safety data (binary and multi-label toxicity): a tie counts as toxic / the category ticked.
    TOWARD_TOXIC = "toward_toxic"
    # Preference: a vote split at the top (A against B, or either against "tie") is "tie".
    TIE = "tie"


@dataclass(frozen=True)
class Answer:
    """One annotation as the vote policy sees it."""

    item_id: int
    ls_user_id: int
    ls_annotation_id: int
    label: Label
    annotator_id: int | None = None
    lead_time: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    guideline_version: int | None = None  # the guideline version the answer was made under
    # A graded preference answer's strength (0 tie .. 3 "much better"); None when ungraded.
    strength: int | None = None


def order_key(answer: Answer) -> tuple[bool, datetime | None, int]:
    """The one ordering of an annotator's answers: later sorts last."""
    when = answer.updated_at or answer.created_at
    return (when is not None, when, answer.ls_annotation_id)


def _sortable(key: tuple[bool, datetime | None, int]) -> tuple[bool, float, int]:
    present, when, ls_id = key
    return (present, when.timestamp() if when is not None else 0.0, ls_id)


def newest_per_annotator(answers: Iterable[Answer]) -> dict[int, list[Answer]]:
    """Per item id: each annotator's newest answer, sorted by Label Studio user id."""
    newest: dict[tuple[int, int], Answer] = {}
    for answer in answers:
        key = (answer.item_id, answer.ls_user_id)
        held = newest.get(key)
        if held is None or _sortable(order_key(answer)) > _sortable(order_key(held)):
            newest[key] = answer
    out: dict[int, list[Answer]] = {}
    for (item_id, _), answer in sorted(newest.items()):
        out.setdefault(item_id, []).append(answer)
    return out


def counted_answers(
    *,
    project: Project,
    spec: KindSpec,
    item_ids: Sequence[int] | None = None,
    made_before: datetime | None = None,
    guideline_version: int | None = None,
) -> dict[int, list[Answer]]:
    """The answers that count, per item id (only items with at least one), read from the
    database; ``made_before``: as they stood before that time (answers created earlier);
    ``guideline_version``: only answers made under that guideline version."""
    rows = Annotation.objects.filter(project=project, was_cancelled=False, label__isnull=False)
    if guideline_version is not None:
        rows = rows.filter(guideline_version=guideline_version)
    if item_ids is not None:
        rows = rows.filter(item_id__in=list(item_ids))
    if made_before is not None:
        rows = rows.filter(ls_created_at__lt=made_before)
    fields = (
        "item_id",
        "ls_user_id",
        "ls_annotation_id",
        "label",
        "annotator_id",
        "lead_time",
        "ls_created_at",
        "ls_updated_at",
        "guideline_version",
        "strength",
    )

    def answers() -> Iterable[Answer]:
        for row in rows.values_list(*fields).iterator(chunk_size=5000):
            item_id, ls_user, ls_id, raw, user_id, lead, created, updated, version, strength = row
            label = spec.normalized(raw)
            if label is not None:
                yield Answer(
                    item_id, ls_user, ls_id, label, user_id, lead, created, updated, version, strength
                )

    return newest_per_annotator(answers())


def _check(spec: KindSpec, rule: TieRule | str) -> TieRule:
    try:
        name = TieRule(rule)
    except ValueError:
        raise ValueError(f"unknown tie rule {rule!r}; valid: {', '.join(TieRule)}") from None
    if name not in spec.tie_rules:
        valid = ", ".join(spec.tie_rules)
        raise ValueError(f"tie rule {str(name)!r} does not apply to {spec.kind}; valid: {valid}")
    return name


def decide(spec: KindSpec, labels: Sequence[Label], *, rule: TieRule | str) -> Label | None:
    """One item's label from its counted votes under ``rule``; None without votes or when the
    rule abstains on a tie.

    Single choice: the most-voted label; a tie at the top goes by the rule. Multi-label: each
    category ticked by more than half of the annotators; a category ticked by exactly half goes
    by the rule (``toward_toxic``: ticked; ``abstain``: the item gets no label).
    """
    name = _check(spec, rule)
    if not labels:
        return None
    if spec.multiple:
        ticks = Counter(category for label in labels for category in set(label))
        chosen = []
        for category in spec.labels:
            twice = 2 * ticks[category]
            if twice == len(labels):
                if name is TieRule.ABSTAIN:
                    return None
                twice += 1  # toward_toxic
            if twice > len(labels):
                chosen.append(category)
        return tuple(chosen)
    counts = Counter(str(label) for label in labels)
    top = max(counts.values())
    tied = [label for label in spec.labels if counts[label] == top]
    if len(tied) == 1:
        return tied[0]
    if name is TieRule.ABSTAIN:
        return None
    if name is TieRule.TOWARD_TOXIC:
        return "toxic"
    return "tie"


def tie_order(spec: KindSpec) -> list[int]:
    """The kind's consensus rule as a priority order of ``spec.codes`` (multi-label: of 0 / 1
    per category), for model-weighted votes (CROWDLAB) whose exact ties must break the same way."""
    if spec.multiple:
        return [1, 0]  # toward_toxic: ticked
    first = "toxic" if spec.consensus_ties == TieRule.TOWARD_TOXIC else "tie"
    return [spec.code(first)] + [c for c in range(len(spec.codes)) if spec.codes[c] != first]


def consensus(spec: KindSpec, labels: Sequence[Label]) -> Label | None:
    """The label every reader shows: :func:`decide` under the kind's consensus rule."""
    return decide(spec, labels, rule=spec.consensus_ties)


def direction_of(spec: KindSpec, label: Label) -> str:
    """The class a single-choice vote counts for when deciding whether an item's votes agree
    (preference: the direction ``A`` / ``B`` / ``tie``)."""
    if spec.multiple:
        raise ValueError(f"{spec.kind} votes are sets of categories, not one direction")
    return str(label)


def directions(spec: KindSpec) -> tuple[str, ...]:
    """The classes of :func:`direction_counts`, in order."""
    return tuple(spec.labels)


def direction_counts(spec: KindSpec, labels: Sequence[Label]) -> list[int]:
    """How many of an item's counted votes went to each of :func:`directions` (the queue's
    ``split_votes`` reads agreement from these)."""
    counts = Counter(direction_of(spec, label) for label in labels)
    return [counts[name] for name in directions(spec)]


def signed_strength(label: Label, strength: int | None) -> int | None:
    """A graded preference vote on one axis: ``+strength`` for A, ``-strength`` for B, 0 for a
    tie; None for a vote without a strength (an ungraded config)."""
    if strength is None:
        return None
    if label == "A":
        return strength
    if label == "B":
        return -strength
    return 0


def consensus_strength(direction: Label | None, graded: Sequence[tuple[Label, int | None]]) -> float | None:
    """How much better the consensus's chosen response is, on the graded scale (0..3): the
    **median** of the counted votes' signed strengths (:func:`signed_strength`), read in the
    consensus ``direction`` and floored at 0. None when the direction is no preference (a tie,
    no label) or no vote carries a strength (an ungraded project).

    Why the median: one annotator who always clicks "much better" cannot move it much, and when
    the direction is the vote policy's (the most-voted of A / B / tie) it never points the other
    way (more than half of the votes would have to be for the other side); the floor only acts
    when another method (CROWDLAB) chose a direction the votes' median does not share.
    ``graded``: (label, strength) per counted vote.
    """
    if direction not in ("A", "B"):
        return None
    signed = [s for label, strength in graded if (s := signed_strength(label, strength)) is not None]
    if not signed:
        return None
    middle = float(statistics.median(signed))
    return max(0.0, middle if direction == "A" else -middle)


def shares(spec: KindSpec, labels: Sequence[Label]) -> dict[str, float]:
    """The share of the votes for each class (multi-label: the share that ticked it)."""
    if not labels:
        return {name: 0.0 for name in spec.labels}
    if spec.multiple:
        ticks = Counter(category for label in labels for category in set(label))
    else:
        ticks = Counter(str(label) for label in labels)
    return {name: ticks[name] / len(labels) for name in spec.labels}


def agreement(spec: KindSpec, labels: Sequence[Label]) -> float | None:
    """How much the votes agree, whatever the tie rule decides: the share given to the most-voted
    class (multi-label: averaged over the categories, each a yes/no vote). None without votes."""
    if not labels:
        return None
    share = shares(spec, labels)
    if spec.multiple:
        return sum(max(s, 1.0 - s) for s in share.values()) / len(share)
    return max(share.values())
