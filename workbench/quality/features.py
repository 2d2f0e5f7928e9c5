"""Item features for out-of-fold predicted probabilities: one flat row per item, as the kind's
description says (:meth:`~workbench.projects.kinds.KindSpec.feature_rows`).

Texts are embedded through the rounds app's embedding cache (each text once per model, with the
one featurizer setting: ``WORKBENCH_FEATURIZER``, ``EMBEDDING_MODEL``, ``EMBEDDING_BACKEND``), a
chunk of items at a time so that only one chunk's dense vectors are in memory at once. With the
hashed featurizer a single-text kind skips the cache: its word n-gram vectors cost less to
compute than to read back, and they go to the model as a sparse CSR matrix (the same logistic
regression, fitted on the non-zeros only: at 100,000 items x 4,096 hashed features the dense
path took most of a quality run and 1.6 GB for the matrix alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

import active_learning as al
from workbench.projects import kinds
from workbench.rounds.embeddings import embed_texts, featurizer

# Below this share of non-zero entries a CSR matrix is cheaper to fit on than the dense array.
SPARSE_BELOW_DENSITY = 0.2
CHUNK_ITEMS = 20_000


def item_features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> Any:
    """``(n, d)`` features for items given by their data (a preference pair's three texts become
    one row): a float32 array, or a float32 CSR matrix when most entries are zero."""
    spec = kinds.spec_of(kind)
    feat = featurizer()
    if isinstance(feat, al.HashedFeaturizer) and not spec.pair:
        return feat.encode_sparse([spec.texts(data)[0] for data in items]).astype(np.float32)
    chunks: list[Any] = []
    for start in range(0, len(items), CHUNK_ITEMS):
        vectors, _ = embed_texts(spec, items[start : start + CHUNK_ITEMS])
        rows = spec.feature_rows(vectors)
        sparse_enough = rows.size and np.count_nonzero(rows) < SPARSE_BELOW_DENSITY * rows.size
        chunks.append(sparse.csr_matrix(rows) if sparse_enough else rows)
    if not chunks:
        vectors, _ = embed_texts(spec, items)
        return spec.feature_rows(vectors)
    if all(sparse.issparse(chunk) for chunk in chunks):
        return sparse.vstack(chunks, format="csr")
    return np.concatenate([chunk.toarray() if sparse.issparse(chunk) else chunk for chunk in chunks])
