"""Input checks shared by the public functions.

Every check raises ``ValueError`` (or ``TypeError``) with a message that names the
argument and its shape, so errors coming back to the web layer are readable as-is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def as_rating_matrix(
    ratings: npt.ArrayLike,
    n_categories: int | None = None,
    *,
    name: str = "ratings",
) -> tuple[FloatArray, int]:
    """Validate an items x annotators matrix of category codes.

    Returns the matrix as float64 (missing = NaN) and the number of categories
    (given, or ``max code + 1`` when ``n_categories`` is None).
    """
    arr = np.asarray(ratings)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_annotators); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must hold numeric category codes (NaN = missing); got dtype {arr.dtype}")
    values = arr.astype(np.float64)
    observed = values[~np.isnan(values)]
    if np.isinf(observed).any():
        raise ValueError(f"{name} of shape {arr.shape} contains infinite values")
    if (observed == -1).any():
        raise ValueError(
            f"{name} of shape {arr.shape} contains -1: missing ratings must be NaN, "
            "not -1 (convert with np.where(r == -1, np.nan, r))"
        )
    if (observed < 0).any() or (observed != np.round(observed)).any():
        raise ValueError(f"{name} of shape {arr.shape} must hold non-negative integer category codes or NaN")
    max_code = int(observed.max()) if observed.size else -1
    if n_categories is None:
        n_categories = max(max_code + 1, 2)
    elif n_categories < 2:
        raise ValueError(f"n_categories must be >= 2; got {n_categories}")
    elif max_code >= n_categories:
        raise ValueError(f"{name} of shape {arr.shape} holds code {max_code} but n_categories={n_categories}")
    return values, int(n_categories)


def as_multilabel_ratings(ratings: npt.ArrayLike, *, name: str = "ratings") -> FloatArray:
    """Validate an items x annotators x labels array of 0/1 ratings (NaN = missing)."""
    arr = np.asarray(ratings, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"{name} must be 3-D (n_items, n_annotators, n_labels); got shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    observed = arr[~np.isnan(arr)]
    if not np.isin(observed, (0.0, 1.0)).all():
        raise ValueError(f"{name} of shape {arr.shape} must hold 0, 1 or NaN")
    return arr


def as_pred_probs(
    pred_probs: npt.ArrayLike,
    n_items: int,
    n_classes: int | None = None,
    *,
    name: str = "pred_probs",
    rows_sum_to_one: bool = True,
) -> FloatArray:
    """Validate an (n_items, n_classes) array of probabilities."""
    arr = np.asarray(pred_probs, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_classes); got shape {arr.shape}")
    if arr.shape[0] != n_items:
        raise ValueError(f"{name} has shape {arr.shape} but there are {n_items} items")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(f"{name} has shape {arr.shape} but expected {n_classes} columns")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(f"{name} of shape {arr.shape} must hold probabilities in [0, 1]")
    if rows_sum_to_one and not np.allclose(arr.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"rows of {name} (shape {arr.shape}) must sum to 1")
    return arr


def as_label_vector(
    labels: npt.ArrayLike,
    n_classes: int | None = None,
    *,
    name: str = "labels",
) -> tuple[IntArray, int]:
    """Validate a 1-D vector of integer class codes; returns it and the class count."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_items,); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        raise TypeError(f"{name} must hold integer class codes; got dtype {arr.dtype}")
    as_float = arr.astype(np.float64)
    if not np.isfinite(as_float).all() or (as_float < 0).any() or (as_float != np.round(as_float)).any():
        raise ValueError(f"{name} of shape {arr.shape} must hold non-negative integer codes")
    codes = as_float.astype(np.int64)
    top = int(codes.max())
    if n_classes is None:
        n_classes = max(top + 1, 2)
    elif top >= n_classes:
        raise ValueError(f"{name} holds code {top} but there are {n_classes} classes")
    return codes, int(n_classes)


def as_binary_matrix(labels: npt.ArrayLike, *, name: str = "labels") -> IntArray:
    """Validate an (n_items, n_labels) 0/1 matrix (multi-label targets)."""
    arr = np.asarray(labels)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_labels); got shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    as_float = arr.astype(np.float64)
    if not np.isin(as_float, (0.0, 1.0)).all():
        raise ValueError(f"{name} of shape {arr.shape} must hold only 0 and 1")
    return as_float.astype(np.int64)


def check_rng(rng: Any) -> np.random.Generator:
    """Require an explicit numpy Generator (no global random state)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_probability(value: float, name: str, *, open_interval: bool = True) -> float:
    """Require ``0 < value < 1`` (or ``0 <= value <= 1`` when not open)."""
    ok = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    if not ok:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be in {bounds}; got {value}")
    return float(value)
