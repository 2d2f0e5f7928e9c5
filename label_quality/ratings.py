"""Build items x annotators rating matrices from long-format annotation rows.

Conventions used by the whole package:

* A rating matrix has shape ``(n_items, n_annotators)`` and dtype float64. Each entry
  is a category code ``0 .. n_categories-1``; a **missing rating is NaN** (``-1`` is
  rejected with an error, so a forgotten conversion cannot pass as a category).
* Binary toxicity: ``0`` = non-toxic, ``1`` = toxic.
* Multi-label (Jigsaw taxonomy): shape ``(n_items, n_annotators, n_labels)``, each
  label an independent binary category (0/1, NaN missing), labels in
  :data:`JIGSAW_LABELS` order unless the caller says otherwise.
* Preference: ``0`` = A preferred, ``1`` = B preferred, ``2`` = tie
  (:data:`PREFERENCE_CATEGORIES`).

Results always refer to **positions** (row / column indices); the caller maps them back
to its own ids with the ``item_ids`` / ``annotator_ids`` returned here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from label_quality._validation import FloatArray

JIGSAW_LABELS: tuple[str, ...] = (
    "toxic",
    "severe_toxic",
    "obscene",
    "threat",
    "insult",
    "identity_hate",
)
PREFERENCE_CATEGORIES: tuple[str, ...] = ("A", "B", "tie")
PREFERENCE_A, PREFERENCE_B, PREFERENCE_TIE = 0, 1, 2


@dataclass(frozen=True)
class RatingMatrix:
    """A wide rating matrix plus the ids that its rows, columns and codes stand for.

    ``values``: ``(n_items, n_annotators)`` float64, NaN = missing, or
    ``(n_items, n_annotators, n_labels)`` for multi-label.
    ``item_ids[i]`` / ``annotator_ids[j]`` are the caller's ids for row ``i`` / column ``j``;
    ``categories[c]`` is the caller's label for code ``c`` (``(0, 1)`` for multi-label);
    ``label_names[k]`` names slice ``values[:, :, k]`` of a multi-label array (empty otherwise).
    """

    values: FloatArray
    item_ids: tuple[Hashable, ...]
    annotator_ids: tuple[Hashable, ...]
    categories: tuple[Hashable, ...]
    label_names: tuple[Hashable, ...] = ()

    @property
    def n_categories(self) -> int:
        """Number of categories (2 for each label of a multi-label matrix)."""
        return len(self.categories)


def _index(
    values: Sequence[Hashable], order: Sequence[Hashable] | None
) -> tuple[tuple[Hashable, ...], npt.NDArray[np.int64]]:
    keys: tuple[Hashable, ...]
    if order is None:
        # First-seen order is deterministic for a given input and needs no sortable ids.
        keys = tuple(dict.fromkeys(values))
    else:
        keys = tuple(order)
        if len(set(keys)) != len(keys):
            raise ValueError("explicit id/category order contains duplicates")
    lookup = {key: pos for pos, key in enumerate(keys)}
    try:
        positions = np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as exc:
        raise ValueError(f"value {exc.args[0]!r} is not in the given order {keys!r}") from None
    return keys, positions


def ratings_from_long(
    item_ids: Sequence[Hashable],
    annotator_ids: Sequence[Hashable],
    labels: Sequence[Hashable],
    *,
    categories: Sequence[Hashable] | None = None,
    items: Sequence[Hashable] | None = None,
    annotators: Sequence[Hashable] | None = None,
) -> RatingMatrix:
    """Pivot ``n`` annotation rows (item, annotator, label) into a rating matrix.

    Args:
        item_ids, annotator_ids, labels: three sequences of length ``n``.
        categories: label values in code order (e.g. ``("non-toxic", "toxic")`` or
            :data:`PREFERENCE_CATEGORIES`); default: first-seen order of ``labels``.
            Pass it explicitly so that codes do not depend on which label came first.
        items, annotators: optional explicit row / column order (e.g. to include items
            nobody rated yet); default: first-seen order.

    Returns:
        :class:`RatingMatrix` with ``values`` of shape ``(n_items, n_annotators)``.

    Raises:
        ValueError: lengths differ, an (item, annotator) pair occurs twice (keep one
            annotation per annotator and item before calling), or a value is not in
            the explicit order given.
    """
    n = len(item_ids)
    if len(annotator_ids) != n or len(labels) != n:
        raise ValueError(
            "item_ids, annotator_ids and labels must have the same length; got "
            f"{n}, {len(annotator_ids)}, {len(labels)}"
        )
    item_keys, rows = _index(item_ids, items)
    annotator_keys, cols = _index(annotator_ids, annotators)
    category_keys, codes = _index(labels, categories)
    flat = rows * max(len(annotator_keys), 1) + cols
    if np.unique(flat).size != n:
        raise ValueError(
            "some (item, annotator) pairs occur more than once; keep one annotation per annotator and item"
        )
    values = np.full((len(item_keys), len(annotator_keys)), np.nan)
    values[rows, cols] = codes
    return RatingMatrix(values, item_keys, annotator_keys, category_keys)


def multilabel_ratings_from_long(
    item_ids: Sequence[Hashable],
    annotator_ids: Sequence[Hashable],
    label_matrix: npt.ArrayLike,
    *,
    label_names: Sequence[Hashable] = JIGSAW_LABELS,
    items: Sequence[Hashable] | None = None,
    annotators: Sequence[Hashable] | None = None,
) -> RatingMatrix:
    """Pivot ``n`` multi-label annotation rows into an items x annotators x labels array.

    Args:
        item_ids, annotator_ids: sequences of length ``n``.
        label_matrix: ``(n, n_labels)`` 0/1 array, one row per annotation.
        label_names: names of the ``n_labels`` columns (stored in ``label_names``).

    Returns:
        :class:`RatingMatrix` whose ``values`` has shape ``(n_items, n_annotators, n_labels)``.
    """
    matrix = np.asarray(label_matrix, dtype=np.float64)
    n = len(item_ids)
    if matrix.ndim != 2 or matrix.shape[0] != n or len(annotator_ids) != n:
        raise ValueError(
            f"label_matrix must have shape (n, n_labels) with n={n} rows matching item_ids "
            f"and annotator_ids (len {len(annotator_ids)}); got {matrix.shape}"
        )
    if matrix.shape[1] != len(label_names):
        raise ValueError(f"label_matrix has {matrix.shape[1]} columns but {len(label_names)} label_names")
    if not np.isin(matrix, (0.0, 1.0)).all():
        raise ValueError(f"label_matrix of shape {matrix.shape} must hold only 0 and 1")
    item_keys, rows = _index(item_ids, items)
    annotator_keys, cols = _index(annotator_ids, annotators)
    if np.unique(rows * max(len(annotator_keys), 1) + cols).size != n:
        raise ValueError(
            "some (item, annotator) pairs occur more than once; keep one annotation per annotator and item"
        )
    values = np.full((len(item_keys), len(annotator_keys), matrix.shape[1]), np.nan)
    values[rows, cols, :] = matrix
    return RatingMatrix(values, item_keys, annotator_keys, (0, 1), tuple(label_names))
