"""Item features for rounds: each text embedded once per model, cached on disk by content hash.

The featurizer is chosen by ``settings.WORKBENCH_FEATURIZER`` ("sentence-transformers" uses
``settings.EMBEDDING_MODEL``; "hashed" needs no torch) and the cache lives under
``settings.EMBEDDINGS_DIR``, one directory per model (float16 rows in memory-mapped ``.npy``
shards: a million 384-d rows are 768 MB on disk and are read without copying). Imports fill it
in the background (:mod:`workbench.rounds.embedding_jobs`); a round embeds only what is still
missing (:func:`features_counted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import DTypeLike, NDArray

import active_learning as al
from workbench.errors import ValidationFailed
from workbench.projects import kinds

FEATURIZERS = ("sentence-transformers", "hashed")


def featurizer() -> al.Featurizer:
    name = settings.WORKBENCH_FEATURIZER
    if name == "hashed":
        return al.get_featurizer("hashed")
    if name == "sentence-transformers":
        return al.get_featurizer(
            settings.EMBEDDING_MODEL,
            backend=settings.EMBEDDING_BACKEND,
            models_dir=settings.EMBEDDINGS_DIR / "onnx",
        )
    raise ValidationFailed(f"WORKBENCH_FEATURIZER={name!r} is unknown; valid: {', '.join(FEATURIZERS)}.")


def cache_of(feat: al.Featurizer) -> al.FileEmbeddingCache:
    return al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)


# Texts encoded between two cache writes: a worker killed mid-chunk keeps what it wrote.
WRITE_EVERY = 500


def embed_texts_counted(
    spec: kinds.KindSpec, items: Sequence[dict[str, Any]], *, dtype: DTypeLike = np.float32
) -> tuple[NDArray[Any], str, int]:
    """``(n, len(spec.embed_fields), d)`` embeddings of the items' texts (cached) as ``dtype``,
    the featurizer's model id, and how many texts had to be encoded (not in the cache yet)."""
    return embed_columns_counted(spec, _columns(spec, items), dtype=dtype)


def embed_columns_counted(
    spec: kinds.KindSpec, columns: Sequence[Sequence[str]], *, dtype: DTypeLike = np.float32
) -> tuple[NDArray[Any], str, int]:
    """:func:`embed_texts_counted` for texts given as columns, one per field of
    ``spec.embed_fields`` (``columns[f][i]``: item i's text of field f), as a round reads them."""
    feat = featurizer()
    cache = cache_of(feat)
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.empty((0, len(spec.embed_fields), feat.dim), dtype=dtype), feat.model_id, 0
    # Item by item, field by field: the one text column as it is, several interleaved.
    texts = columns[0] if len(columns) == 1 else [t for item in zip(*columns, strict=True) for t in item]
    vectors, computed = al.embed_counted(
        texts, feat, cache=cache, chunk_size=WRITE_EVERY, progress=False, dtype=dtype
    )
    return vectors.reshape(n, len(spec.embed_fields), -1), feat.model_id, computed


def embed_texts(spec: kinds.KindSpec, items: Sequence[dict[str, Any]]) -> tuple[NDArray[np.float32], str]:
    """``(n, len(spec.embed_fields), d)`` embeddings of the items' texts (cached), and the
    featurizer's model id."""
    vectors, model_id, _ = embed_texts_counted(spec, items)
    return np.asarray(vectors, dtype=np.float32), model_id


def features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> tuple[NDArray[np.float32], str]:
    """Features for items given by their data, as ``active_learning`` takes them: (n, d), or
    (n, 3, d) for preference pairs (the library's pair layout); and the featurizer's model id
    (recorded with the round)."""
    X, model_id, _ = features_counted(kind, items)
    return np.asarray(X, dtype=np.float32), model_id


def features_counted(
    kind: kinds.Kind | str, items: Sequence[dict[str, Any]], *, dtype: DTypeLike = np.float32
) -> tuple[NDArray[Any], str, int]:
    """:func:`features` as ``dtype`` (a round takes float16, the cache's precision: half the
    memory of a large pool), embedding only the texts the cache lacks, and how many that were
    (a round records it: 0 once the background jobs have caught up with the imports)."""
    return features_of_columns(kind, _columns(kinds.spec_of(kind), items), dtype=dtype)


def features_of_columns(
    kind: kinds.Kind | str, columns: Sequence[Sequence[str]], *, dtype: DTypeLike = np.float32
) -> tuple[NDArray[Any], str, int]:
    """:func:`features_counted` for texts given as columns (:func:`embed_columns_counted`)."""
    spec = kinds.spec_of(kind)
    vectors, model_id, computed = embed_columns_counted(spec, columns, dtype=dtype)
    return (vectors if spec.pair else vectors[:, 0, :]), model_id, computed


def _columns(spec: kinds.KindSpec, items: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The items' texts as columns, one per field of ``spec.embed_fields``."""
    return [[data[name] for data in items] for name in spec.embed_fields]
