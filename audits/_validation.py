"""Input checks shared by the public functions.

Every check raises ``ValueError`` (or ``TypeError``) naming the argument and its shape,
so errors that reach the web layer are readable as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def check_rng(rng: Any) -> np.random.Generator:
    """Require an explicit numpy Generator (no global random state)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    return rng


def as_scores(values: npt.ArrayLike, *, name: str, n_items: int | None = None) -> FloatArray:
    """A finite 1-D float vector (scores, lengths), optionally of a given length."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_items,); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    out = arr.astype(np.float64)
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{name} of shape {arr.shape} holds a non-finite value at position {bad}")
    if n_items is not None and out.shape[0] != n_items:
        raise ValueError(f"{name} has shape {arr.shape} but there are {n_items} items")
    return out


def as_binary_labels(values: npt.ArrayLike, *, name: str, n_items: int | None = None) -> IntArray:
    """A 1-D vector of 0/1 labels."""
    out = as_scores(values, name=name, n_items=n_items)
    bad = ~np.isin(out, (0.0, 1.0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} of shape {out.shape} must hold only 0 and 1; got {out[pos]} at position {pos}"
        )
    return out.astype(np.int64)


def as_class_codes(values: npt.ArrayLike, *, name: str, n_items: int | None = None) -> IntArray:
    """A 1-D vector of non-negative integer class codes."""
    out = as_scores(values, name=name, n_items=n_items)
    bad = (out < 0) | (out != np.round(out))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} of shape {out.shape} must hold non-negative integer codes; "
            f"got {out[pos]} at position {pos}"
        )
    return out.astype(np.int64)


def as_group_masks(
    groups: Mapping[str, npt.ArrayLike], *, n_items: int, name: str = "groups"
) -> dict[str, BoolArray]:
    """``{group: (n_items,) bool mask}``, keys sorted, every mask of the right length."""
    if not isinstance(groups, Mapping):
        raise TypeError(
            f"{name} must be a mapping of group name -> (n_items,) bool mask; got {type(groups).__name__}"
        )
    masks: dict[str, BoolArray] = {}
    for group in sorted(groups):
        if not isinstance(group, str) or not group:
            raise ValueError(f"{name} keys must be non-empty strings; got {group!r}")
        arr = np.asarray(groups[group])
        if arr.shape != (n_items,):
            raise ValueError(f"{name}[{group!r}] has shape {arr.shape} but there are {n_items} items")
        if arr.dtype != np.bool_:
            if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
                raise ValueError(f"{name}[{group!r}] must be a bool (or 0/1) mask; got dtype {arr.dtype}")
            arr = arr.astype(bool)
        masks[group] = arr
    return masks


def check_positive_int(value: int, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_fraction(value: float, name: str, *, open_interval: bool = True) -> float:
    """Require ``0 < value < 1`` (or ``0 <= value <= 1`` when not open)."""
    ok = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    if not ok:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be in {bounds}; got {value}")
    return float(value)
