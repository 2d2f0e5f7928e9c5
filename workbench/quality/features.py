"""Item features for out-of-fold predicted probabilities: one flat row per item, as the kind's
description says (:meth:`~workbench.projects.kinds.KindSpec.feature_rows`).

Texts are embedded through the rounds app's embedding cache (each text once per model, with the
one featurizer setting: ``WORKBENCH_FEATURIZER``, ``EMBEDDING_MODEL``, ``EMBEDDING_BACKEND``).
Mostly-zero rows (the hashed featurizer's word n-grams) are handed over as a scipy CSR matrix:
the same logistic regression, fitted on the non-zeros only (at 100,000 items x 4,096 hashed
features the dense fit dominated a quality run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

from workbench.projects import kinds
from workbench.rounds.embeddings import embed_texts

# Below this share of non-zero entries a CSR matrix is cheaper to fit on than the dense array.
SPARSE_BELOW_DENSITY = 0.2


def item_features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> Any:
    """``(n, d)`` features for items given by their data (a preference pair's three texts become
    one row): a float32 array, or a float32 CSR matrix when most entries are zero."""
    spec = kinds.spec_of(kind)
    vectors, _ = embed_texts(spec, items)
    rows = spec.feature_rows(vectors)
    if rows.size and np.count_nonzero(rows) < SPARSE_BELOW_DENSITY * rows.size:
        return sparse.csr_matrix(rows)
    return rows
