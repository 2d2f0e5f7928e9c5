"""Deterministic train/validation/test assignment from a keyed hash of the item id.

An item's split depends only on (salt, item_id, ratios): never on the other items, on their
order or on the release version. With the project's salt and ratios kept fixed, an item stays
in the same split in every release, and adding items never moves existing ones. Changing the
ratios moves items; manifests record the ratios and a salt fingerprint so a diff can show it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from exports.errors import ReleaseInputError
from exports.keys import salt_bytes

SPLIT_NAMES: tuple[str, str, str] = ("train", "validation", "test")
_SPLIT_DOMAIN = b"exports/split:"
_RATIO_TOLERANCE = 1e-9
_UNIT = float(1 << 64)
_BLOCK = 64  # SHA-256 block size in bytes


@dataclass(frozen=True)
class SplitRatios:
    """Fractions of items per split; each in [0, 1], summing to 1 (within 1e-9)."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        for name in SPLIT_NAMES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ReleaseInputError(
                    f"split ratio {name!r} must be a number, got {value!r}", field="split_ratios"
                )
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ReleaseInputError(
                    f"split ratio {name!r} must be within [0, 1], got {value!r}",
                    field="split_ratios",
                )
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > _RATIO_TOLERANCE:
            raise ReleaseInputError(
                f"split ratios must sum to 1, got train={self.train} + "
                f"validation={self.validation} + test={self.test} = {total!r}",
                field="split_ratios",
            )

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in SPLIT_NAMES}

    def active(self) -> tuple[str, ...]:
        """Split names with a non-zero ratio, in canonical order."""
        return tuple(name for name in SPLIT_NAMES if getattr(self, name) > 0.0)


class SplitAssigner:
    """Assigns ``item_id -> split name``.

    The keyed hash of the item id is read as a uniform number u in [0, 1); u < train gives
    "train", u < train + validation gives "validation", anything else "test".
    """

    def __init__(self, salt: bytes | str, ratios: SplitRatios) -> None:
        # HMAC-SHA256 (RFC 2104) with the key's inner and outer hash states computed once: a
        # release hashes every item id, and copying two prepared states is about twice as fast
        # as hmac.new(...).copy() or hmac.digest (which redo the key schedule or wrap more).
        key = salt_bytes(salt)
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key) + _SPLIT_DOMAIN)
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
        self._train_cut = ratios.train
        self._validation_cut = ratios.train + ratios.validation
        # Float sums can stop a hair short of 1.0; a zero test ratio must never get items.
        self._no_test = ratios.test == 0.0

    def unit(self, item_id: int) -> float:
        """The item's position in [0, 1), a pure function of (salt, item_id)."""
        inner = self._inner.copy()
        inner.update(b"%d" % item_id)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return int.from_bytes(outer.digest()[:8], "big") / _UNIT

    def __call__(self, item_id: int) -> str:
        u = self.unit(item_id)
        if u < self._train_cut:
            return "train"
        if u < self._validation_cut or self._no_test:
            return "validation" if self._validation_cut > self._train_cut else "train"
        return "test"


def assign_split(item_id: int, *, salt: bytes | str, ratios: SplitRatios) -> str:
    """One-off split lookup; use :class:`SplitAssigner` in loops (it reuses the keyed hash)."""
    return SplitAssigner(salt, ratios)(item_id)
