"""Exceptions raised at the library boundary.

All of them subclass :class:`ValueError` so callers that only care about "bad input" can catch
one type; the workbench maps them onto its own error vocabulary.
"""

from __future__ import annotations


class ActiveLearningError(ValueError):
    """Base class for every error this library raises on purpose."""


class InvalidInputError(ActiveLearningError):
    """An array or argument has the wrong shape, dtype, range or length."""


class UnknownNameError(ActiveLearningError):
    """A strategy, featurizer or option name is not registered; the message lists valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid {kind} names: {', '.join(self.valid)}")


class NotEnoughLabelsError(ActiveLearningError):
    """The strategy needs a trained model but the labeled set cannot train one."""
