"""Input checks used at the public boundary (real exceptions, never ``assert``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError


def shape_of(x: Any) -> str:
    """Human-readable shape for error messages."""
    shape = getattr(x, "shape", None)
    if shape is None:
        try:
            return f"len {len(x)}"
        except TypeError:
            return type(x).__name__
    return str(tuple(int(s) for s in shape))


def as_2d_float(x: Any, name: str, *, allow_empty: bool = False) -> NDArray[np.floating[Any]]:
    """Return ``x`` as a 2-D floating array without copying float16/float32/float64 input.

    Memory-mapped arrays stay memory-mapped so million-row pools are not copied here.
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.ndim != 2:
        raise InvalidInputError(f"{name} must be 2-D (n, d); got shape {shape_of(arr)}")
    if not np.issubdtype(arr.dtype, np.floating):
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise InvalidInputError(f"{name} must be numeric; got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if not allow_empty and arr.shape[0] == 0:
        raise InvalidInputError(f"{name} must have at least one row; got shape {shape_of(arr)}")
    return arr


def check_proba(proba: Any, name: str = "proba", *, n: int | None = None) -> NDArray[np.float64]:
    """Validate class probabilities of shape (n, c) with c >= 2, rows summing to 1."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InvalidInputError(f"{name} must have shape (n, n_classes>=2); got {shape_of(arr)}")
    if n is not None and arr.shape[0] != n:
        raise InvalidInputError(f"{name} has {arr.shape[0]} rows; expected {n} (pool size)")
    if not np.all(np.isfinite(arr)) or np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9):
        raise InvalidInputError(f"{name} must hold finite probabilities in [0, 1]")
    if arr.shape[0] and not np.allclose(arr.sum(axis=1), 1.0, atol=1e-4):
        raise InvalidInputError(f"rows of {name} {shape_of(arr)} must sum to 1")
    return arr


def check_label_proba(proba: Any, name: str = "proba", *, n: int | None = None) -> NDArray[np.float64]:
    """Validate independent per-label positive probabilities of shape (n, n_labels)."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidInputError(f"{name} must have shape (n, n_labels); got {shape_of(arr)}")
    if n is not None and arr.shape[0] != n:
        raise InvalidInputError(f"{name} has {arr.shape[0]} rows; expected {n} (pool size)")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise InvalidInputError(f"{name} must hold finite probabilities in [0, 1]")
    return arr


def check_k(k: Any, n: int, *, eligible: int | None = None) -> int:
    """Validate a batch size against a pool of ``n`` items (``eligible`` of them selectable)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidInputError(f"k must be an int; got {type(k).__name__}")
    k_int = int(k)
    if k_int < 1:
        raise InvalidInputError(f"k must be >= 1; got {k_int}")
    if k_int > n:
        raise InvalidInputError(f"k={k_int} is larger than the pool (n={n})")
    if eligible is not None and k_int > eligible:
        raise InvalidInputError(f"k={k_int} is larger than the {eligible} eligible pool items (n={n})")
    return k_int


def check_rng(rng: Any) -> np.random.Generator:
    """Require an explicit numpy Generator (no global RNG state, no bare seeds)."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_same_rows(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Raise if two arrays disagree on their first dimension."""
    if len(a) != len(b):
        raise InvalidInputError(
            f"{name_a} {shape_of(a)} and {name_b} {shape_of(b)} must have the same number of rows"
        )
