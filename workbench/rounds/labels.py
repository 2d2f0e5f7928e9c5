"""From annotations to training targets, and which items are held out for validation.

Targets are the kind's library targets (``KindSpec.target``): binary 1 = toxic; multi-label a
0/1 row over the project's labels; preference 1 = A preferred, 0 = B, 0.5 = tie.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from workbench import votes
from workbench.projects import kinds

Target = kinds.Target


def majority_target(kind: kinds.Kind | str, labels: Sequence[Any]) -> Target | None:
    """The training target of one item's counted votes, or None.

    The consensus of the vote policy under the kind's *training* tie rule
    (``KindSpec.training_ties``): binary and multi-label abstain on a tie (no target, so the
    model never learns a coin flip); a split preference is ``tie`` (trained as half a win each
    way). Where it gives a target, it is the label every other reader shows.
    """
    spec = kinds.spec_of(kind)
    counted = [label for label in (spec.normalized(raw) for raw in labels) if label is not None]
    label = votes.decide(spec, counted, rule=spec.training_ties)
    return None if label is None else spec.target(label)


def gold_target(kind: kinds.Kind | str, gold: Any) -> Target | None:
    """An item's gold label as a target (None without one)."""
    spec = kinds.spec_of(kind)
    label = spec.normalized(gold)
    return None if label is None else spec.target(label)


def in_validation_slice(content_hash: str, percent: int) -> bool:
    """Deterministic hold-out by content: the same item stays in (or out) as the pool grows."""
    digest = hashlib.sha256(f"validation:{content_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent
