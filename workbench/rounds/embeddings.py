"""Item features for rounds: each text embedded once per model, cached on disk by content hash.

The featurizer is chosen by ``settings.WORKBENCH_FEATURIZER`` ("sentence-transformers" uses
``settings.EMBEDDING_MODEL``; "hashed" needs no torch) and the cache lives under
``settings.EMBEDDINGS_DIR``, one directory per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

import active_learning as al
from workbench.errors import ValidationFailed
from workbench.projects import kinds

FEATURIZERS = ("sentence-transformers", "hashed")


def featurizer() -> al.Featurizer:
    name = settings.WORKBENCH_FEATURIZER
    if name == "hashed":
        return al.get_featurizer("hashed")
    if name == "sentence-transformers":
        return al.get_featurizer(settings.EMBEDDING_MODEL)
    raise ValidationFailed(f"WORKBENCH_FEATURIZER={name!r} is unknown; valid: {', '.join(FEATURIZERS)}.")


def embed_texts(spec: kinds.KindSpec, items: Sequence[dict[str, Any]]) -> tuple[NDArray[np.float32], str]:
    """``(n, len(spec.embed_fields), d)`` embeddings of the items' texts (cached), and the
    featurizer's model id."""
    feat = featurizer()
    cache = al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)
    texts = [t for data in items for t in spec.texts(data)]
    if not texts:
        return np.empty((0, len(spec.embed_fields), feat.dim), dtype=np.float32), feat.model_id
    vectors = al.embed(texts, feat, cache=cache, progress=False)
    shaped = np.asarray(vectors, dtype=np.float32).reshape(len(items), len(spec.embed_fields), -1)
    return shaped, feat.model_id


def features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> tuple[NDArray[np.float32], str]:
    """Features for items given by their data, as ``active_learning`` takes them: (n, d), or
    (n, 3, d) for preference pairs (the library's pair layout); and the featurizer's model id
    (recorded with the round)."""
    spec = kinds.spec_of(kind)
    vectors, model_id = embed_texts(spec, items)
    return (vectors if spec.pair else vectors[:, 0, :]), model_id
