"""Randomised sides of a preference pair: the one place that knows which of an item's two
responses Label Studio shows first, and how an answer given on the shown sides becomes the
stored label.

An annotator who tends to pick the left (first-shown) answer shifts the labels of pairs shown as
imported. So every pair is shown in a random order: ``ab`` shows ``response_a`` as "Response 1",
``ba`` shows ``response_b`` first. The order is drawn once per item, seeded by (project, item), and
recorded on the item (``Item.sides``) before its task is sent; the task data carries it too
(``sides``), but ingest maps answers back with the item's record, never with the task data alone
(anybody in a Community-edition organisation can edit task data). Stored labels always refer to
the item's own ``response_a`` / ``response_b`` (``A`` / ``B`` / ``tie``).

No Django here: the apps, the simulated annotators and the benchmarks share these functions.
"""

from __future__ import annotations

import hashlib
from typing import Any

AB = "ab"  # response_a shown first ("Response 1"), response_b second
BA = "ba"  # response_b shown first
SIDES = (AB, BA)

# What Label Studio's preference config offers (its <Choice> values) and what each one means on
# the shown sides: the first-shown response, the second-shown one, neither.
FIRST, SECOND, TIE = "1", "2", "tie"
SHOWN_CHOICES = (FIRST, SECOND, TIE)
SHOWN_FIELDS = ("prompt", "response_1", "response_2")
HIDDEN_FIELDS = ("response_a", "response_b")


class SidesError(ValueError):
    """An answer or an order that cannot be mapped (no recorded order, an unknown choice)."""


def draw(*, project_id: int, item_id: int, seed: int | str = "") -> str:
    """The order an item is shown in: ``ab`` or ``ba``, each with probability one half,
    reproducible from (project, item, seed) alone."""
    digest = hashlib.sha256(f"sides:{seed}:{project_id}:{item_id}".encode()).digest()
    return SIDES[digest[0] & 1]


def _checked(sides: str) -> str:
    if sides not in SIDES:
        raise SidesError(f"unknown sides {sides!r}; recorded sides are one of {', '.join(SIDES)}")
    return sides


def shown_data(data: dict[str, Any], sides: str) -> dict[str, Any]:
    """An item's data as its task shows it: ``response_1`` / ``response_2`` in the given order
    (``response_a`` / ``response_b`` left out, so the task does not tell which is which), and the
    order itself as ``sides``."""
    first, second = ("response_a", "response_b") if _checked(sides) == AB else ("response_b", "response_a")
    kept = {k: v for k, v in data.items() if k not in HIDDEN_FIELDS}
    return {**kept, "response_1": data[first], "response_2": data[second], "sides": sides}


def stored_label(choice: str, sides: str) -> str:
    """An answer on the shown sides (``1`` / ``2`` / ``tie``) as the stored label (``A`` / ``B``
    / ``tie``, about the item's own responses)."""
    if choice == TIE:
        return "tie"
    if choice not in (FIRST, SECOND):
        raise SidesError(f"unknown choice {choice!r}; valid: {', '.join(SHOWN_CHOICES)}")
    first_is_a = _checked(sides) == AB
    return "A" if (choice == FIRST) == first_is_a else "B"


def shown_choice(label: str, sides: str) -> str:
    """The inverse of :func:`stored_label`: the choice an annotator makes on the shown sides
    to give the stored ``label``."""
    if label == "tie":
        return TIE
    if label not in ("A", "B"):
        raise SidesError(f"unknown preference label {label!r}; valid: A, B, tie")
    first_is_a = _checked(sides) == AB
    return FIRST if (label == "A") == first_is_a else SECOND


def chose_first_shown(label: str, sides: str) -> bool | None:
    """Whether a stored label picked the response that was shown first; None for a tie or an
    item without a recorded order (nothing to say about position)."""
    if label not in ("A", "B") or sides not in SIDES:
        return None
    return shown_choice(label, sides) == FIRST


# The graded scale (labeling_configs/preference_graded.xml), as in published RLHF collections
# (Anthropic's HH-RLHF interface, Llama 2's four-level ratings): seven choices about the shown
# sides, each a shown side and a strength, 0 (tie) to MAX_STRENGTH ("much better").
SLIGHTLY, BETTER, MUCH = 1, 2, 3
MAX_STRENGTH = MUCH
_GRADE_WORDS = {SLIGHTLY: "slightly better", BETTER: "better", MUCH: "much better"}
GRADED: tuple[tuple[str, str, int], ...] = (
    *((f"Response 1 {_GRADE_WORDS[s]}", FIRST, s) for s in (MUCH, BETTER, SLIGHTLY)),
    ("Tie", TIE, 0),
    *((f"Response 2 {_GRADE_WORDS[s]}", SECOND, s) for s in (SLIGHTLY, BETTER, MUCH)),
)
GRADED_CHOICES = tuple(choice for choice, _, _ in GRADED)
_GRADE_OF = {choice: (side, strength) for choice, side, strength in GRADED}
_CHOICE_OF = {(side, strength): choice for choice, side, strength in GRADED}


def stored_grade(choice: str, sides: str) -> tuple[str, int]:
    """A graded answer on the shown sides ("Response 2 much better") as the stored label and
    strength: (``A`` / ``B`` / ``tie``, 0..3), about the item's own responses."""
    try:
        side, strength = _GRADE_OF[choice]
    except KeyError:
        raise SidesError(f"unknown graded choice {choice!r}; valid: {', '.join(GRADED_CHOICES)}") from None
    return stored_label(side, sides), strength


def shown_grade(label: str, strength: int, sides: str) -> str:
    """The inverse of :func:`stored_grade`: the graded choice an annotator clicks on the shown
    sides to give ``label`` with ``strength`` (a tie has strength 0, a preference 1..3)."""
    side = shown_choice(label, sides)
    try:
        return _CHOICE_OF[(side, strength)]
    except KeyError:
        valid = "0" if side == TIE else f"1..{MAX_STRENGTH}"
        raise SidesError(f"strength {strength!r} is not on the scale for {label!r}; valid: {valid}") from None


def graded_choice(choice: str, strength: int) -> str:
    """A plain answer on the shown sides (``1`` / ``2`` / ``tie``) at a strength, as the graded
    config's choice (simulated annotators answer this way)."""
    try:
        return _CHOICE_OF[(choice, 0 if choice == TIE else strength)]
    except KeyError:
        raise SidesError(f"no graded choice for {choice!r} at strength {strength!r}") from None
