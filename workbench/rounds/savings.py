"""How many labels active learning is saving, estimated live from the audit slice.

Every round draws a small share of its batch uniformly at random from the pool (``audit`` on
:class:`RoundSelection`). Once labels come back, the rate of *useful* labels among the
strategy's items is compared with the rate among the audit items
(:func:`active_learning.audit.savings_estimate`). What counts as useful is one rule per kind,
here; the comparison pools every finished round of the project up to the one asked about, each
item counted once, in the role of its first selection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from active_learning.audit import Savings, savings_estimate
from workbench import votes
from workbench.projects import kinds
from workbench.rounds.models import Round, RoundSelection

# Per kind: what a useful label is, and the test of one given the item's consensus label and the
# round's model's prediction (P(toxic), the largest per-label P, P(A)); None leaves the item out.
Useful = Callable[[kinds.Label, float | None], bool | None]
USEFUL: dict[kinds.Kind, tuple[str, Useful]] = {
    kinds.Kind.TOXICITY_BINARY: ("toxic labels", lambda label, _p: label == "toxic"),
    kinds.Kind.TOXICITY_MULTILABEL: ("items with a toxicity label", lambda label, _p: bool(label)),
    kinds.Kind.PREFERENCE: (
        "pairs the model got wrong",
        lambda label, p: None if label == "tie" or p is None else (p >= 0.5) != (label == "A"),
    ),
}


@dataclass(frozen=True)
class RoundSavings:
    useful: str  # what counted as a useful label
    rounds: int  # finished rounds pooled
    estimate: Savings

    def as_dict(self) -> dict[str, Any]:
        return {"useful": self.useful, "rounds": self.rounds, **self.estimate.as_dict()}


def round_savings(round_: Round) -> RoundSavings:
    """The estimate as the labels stand now, over the project's finished rounds up to this one."""
    kind = kinds.Kind(round_.project.kind)
    spec = kinds.spec_of(kind)
    useful_name, is_useful = USEFUL[kind]
    selections = (
        RoundSelection.objects.filter(
            round__project=round_.project, round__number__lte=round_.number, round__status=Round.Status.DONE
        )
        .order_by("round__number", "rank")
        .values_list("item_id", "audit", "predicted", "round_id")
    )
    first: dict[int, tuple[bool, float | None]] = {}
    rounds = set()
    for item_id, audit, predicted, round_id in selections.iterator(chunk_size=5000):
        rounds.add(round_id)
        first.setdefault(item_id, (audit, predicted))
    answers = votes.counted_answers(project=round_.project, spec=spec, item_ids=list(first))
    counts = {True: [0, 0], False: [0, 0]}  # audit? -> [labeled, useful]
    for item_id, given in answers.items():
        label = votes.consensus(spec, [a.label for a in given])
        if label is None:
            continue
        audit, predicted = first[item_id]
        verdict = is_useful(label, predicted)
        if verdict is None:
            continue
        counts[audit][0] += 1
        counts[audit][1] += int(verdict)
    estimate = savings_estimate(
        strategy_useful=counts[False][1],
        strategy_labeled=counts[False][0],
        audit_useful=counts[True][1],
        audit_labeled=counts[True][0],
        useful=useful_name,
    )
    return RoundSavings(useful=useful_name, rounds=len(rounds), estimate=estimate)
