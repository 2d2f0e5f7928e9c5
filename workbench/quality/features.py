"""Item features for out-of-fold predicted probabilities.

Reuses the rounds app's embedding cache (each text embedded once per model) when that app is
installed, else calls the ``active_learning`` featurizer directly with the same setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.apps import apps
from django.conf import settings
from numpy.typing import NDArray

import active_learning as al
from active_learning.classifiers import pair_features
from workbench.projects import kinds


def _texts(kind: kinds.Kind, data: dict[str, Any]) -> list[str]:
    if kind is kinds.Kind.PREFERENCE:
        return [data["response_a"], data["response_b"], data["prompt"]]
    return [data["text"]]


def item_features(kind: kinds.Kind, items: Sequence[dict[str, Any]]) -> NDArray[np.float32]:
    """``(n, d)`` features for items given by their data; a preference pair becomes
    ``[a - b, prompt * (a - b)]`` so a linear model can tell A from B."""
    if apps.is_installed("workbench.rounds"):
        from workbench.rounds.embeddings import features

        vectors, _ = features(kind, items)
    else:
        name = getattr(settings, "WORKBENCH_FEATURIZER", "sentence-transformers")
        featurizer = al.get_featurizer("hashed" if name == "hashed" else settings.EMBEDDING_MODEL)
        texts = [t for data in items for t in _texts(kind, data)]
        vectors = al.embed(texts, featurizer, progress=False)
        if kind is kinds.Kind.PREFERENCE:
            vectors = vectors.reshape(len(items), 3, -1)
    if kind is kinds.Kind.PREFERENCE:
        return pair_features(vectors, use_prompt=True)
    return np.asarray(vectors, dtype=np.float32)
