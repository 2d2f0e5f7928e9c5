"""From annotations to training targets, and which items are held out for validation.

Targets follow the library's conventions: binary 1 = toxic; multi-label a 0/1 row over the
project's labels; preference 1 = A preferred, 0 = B, 0.5 = tie.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from workbench.projects import kinds

Target = float | tuple[int, ...]

PREFERENCE_VALUE = {"A": 1.0, "B": 0.0, "tie": 0.5}


def majority_target(kind: kinds.Kind | str, labels: Sequence[Any]) -> Target | None:
    """The majority of one item's (non-cancelled) labels, or None when there is no majority.

    binary: strict majority of toxic / non-toxic, a tie is no label; multi-label: each category
    that more than half of the annotators ticked; preference: the majority of A / B / tie, and an
    even A-versus-B split counts as a tie.
    """
    labels = [label for label in labels if label is not None]
    if not labels:
        return None
    kind = kinds.Kind(kind)
    if kind is kinds.Kind.TOXICITY_MULTILABEL:
        names = kinds.SPECS[kind].labels
        ticks = Counter(name for label in labels for name in set(label))
        return tuple(int(ticks[name] * 2 > len(labels)) for name in names)
    votes = Counter(str(label) for label in labels).most_common()
    top, count = votes[0]
    tied = [label for label, c in votes if c == count]
    if kind is kinds.Kind.PREFERENCE:
        if len(tied) > 1:
            return 0.5 if set(tied) >= {"A", "B"} or "tie" in tied else None
        return PREFERENCE_VALUE[top]
    if len(tied) > 1:
        return None
    return 1.0 if top == "toxic" else 0.0


def gold_target(kind: kinds.Kind | str, gold: Any) -> Target | None:
    """An item's gold label as a target (None without one)."""
    if gold is None:
        return None
    return majority_target(kind, [gold])


def in_validation_slice(content_hash: str, percent: int) -> bool:
    """Deterministic hold-out by content: the same item stays in (or out) as the pool grows."""
    digest = hashlib.sha256(f"validation:{content_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent
