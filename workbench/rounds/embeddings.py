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
        return al.get_featurizer(
            settings.EMBEDDING_MODEL,
            backend=settings.EMBEDDING_BACKEND,
            models_dir=settings.EMBEDDINGS_DIR / "onnx",
        )
    raise ValidationFailed(f"WORKBENCH_FEATURIZER={name!r} is unknown; valid: {', '.join(FEATURIZERS)}.")


def texts_of(kind: kinds.Kind | str, data: dict[str, Any]) -> list[str]:
    """The texts that make up an item: [text], or [response A, response B, prompt] for a pair
    (the library's pair layout)."""
    if kinds.Kind(kind) is kinds.Kind.PREFERENCE:
        return [data["response_a"], data["response_b"], data["prompt"]]
    return [data["text"]]


def features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> tuple[NDArray[np.float32], str]:
    """Features for items given by their data: (n, d), or (n, 3, d) for preference pairs; and
    the featurizer's model id (recorded with the round)."""
    feat = featurizer()
    cache = al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)
    per_item = len(texts_of(kind, items[0])) if items else 1
    texts = [t for data in items for t in texts_of(kind, data)]
    if not texts:
        return np.empty((0, feat.dim), dtype=np.float32), feat.model_id
    vectors = al.embed(texts, feat, cache=cache, progress=False)
    if per_item > 1:
        return vectors.reshape(len(items), per_item, -1), feat.model_id
    return vectors, feat.model_id
