"""Numeric settings and options, each with the range the code that uses it needs.

A ``Bound`` is written once, next to the service that uses the value (``QUALITY_BOUNDS``,
``ROUND_BOUNDS``, ``RELEASE_BOUNDS``); the service checks changes against it and the API's
serializers are built from it (``workbench.fields.bounded``), so the API, the admin and the
commands refuse the same values, and the OpenAPI schema shows the same range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ValidationFailed

INT32_MAX = 2**31 - 1  # PositiveIntegerField's largest value on PostgreSQL


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    low_open: bool = False  # low itself is not allowed
    high_open: bool = False
    integer: bool = False
    nullable: bool = False
    why: str = ""  # said in the error: which code needs this range

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        kind = "an integer" if self.integer else "a number"
        if self.integer:  # whole numbers in full: 2147483647, not 2.14748e+09
            return f"{kind} in {left}{int(self.low)}, {int(self.high)}{right}"
        return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if value is None:
            return None if self.nullable else "must not be null"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be {self.describe()}; got {value!r}"
        if self.integer and (isinstance(value, float) and not value.is_integer()):
            return f"must be {self.describe()}; got {value!r}"
        if not math.isfinite(value):
            return f"must be {self.describe()}; got {value!r}"
        too_low = value <= self.low if self.low_open else value < self.low
        too_high = value >= self.high if self.high_open else value > self.high
        if too_low or too_high:
            because = f" ({self.why})" if self.why else ""
            return f"must be {self.describe()}{because}; got {value!r}"
        return None


def check_bounds(bounds: Mapping[str, Bound], values: Mapping[str, Any]) -> None:
    """Raise ``ValidationFailed`` naming every value outside its bound (names without a bound
    are left to the caller)."""
    problems = {
        name: problem
        for name, value in values.items()
        if name in bounds and (problem := bounds[name].problem(value)) is not None
    }
    if problems:
        first = next(iter(problems))
        raise ValidationFailed(
            f"{first} {problems[first]}.", extra={"fields": {k: [v] for k, v in problems.items()}}
        )
