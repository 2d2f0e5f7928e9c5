"""Text features for the drift check when no embeddings are at hand.

Hashed word 1-2 grams with sublinear TF-IDF weighting fitted on both sides together (IDF is
unsupervised, so fitting it on the union leaks nothing about which side an item is on). The
workbench's rounds use MiniLM embeddings; this is the fast stand-in for files and benches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]
from sklearn.feature_extraction.text import (  # type: ignore[import-untyped, unused-ignore]
    HashingVectorizer,
    TfidfTransformer,
)

DEFAULT_N_FEATURES = 2**18


def _texts(values: Sequence[str], name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of strings; got {type(values).__name__}")
    out = list(values)
    if not out:
        raise ValueError(f"{name} must not be empty")
    for row, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{row}] must be a string; got {type(text).__name__}")
    return out


def hashed_tfidf_pair(
    texts_a: Sequence[str], texts_b: Sequence[str], *, n_features: int = DEFAULT_N_FEATURES
) -> tuple[Any, Any]:
    """Sparse ``(n_a, n_features)`` and ``(n_b, n_features)`` CSR matrices for the two sides."""
    a, b = _texts(texts_a, "texts_a"), _texts(texts_b, "texts_b")
    if n_features < 2:
        raise ValueError(f"n_features must be >= 2; got {n_features}")
    vectorizer = HashingVectorizer(n_features=n_features, ngram_range=(1, 2), alternate_sign=False, norm=None)
    counts_a, counts_b = vectorizer.transform(a), vectorizer.transform(b)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(sp.vstack([counts_a, counts_b]))
    return tfidf.transform(counts_a).tocsr(), tfidf.transform(counts_b).tocsr()
