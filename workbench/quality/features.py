"""Item features for out-of-fold predicted probabilities: one flat row per item, as the kind's
description says (:meth:`~workbench.projects.kinds.KindSpec.feature_rows`).

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
from workbench.projects import kinds


def item_features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> NDArray[np.float32]:
    """``(n, d)`` features for items given by their data (a preference pair's three texts become
    one row)."""
    spec = kinds.spec_of(kind)
    if apps.is_installed("workbench.rounds"):
        from workbench.rounds.embeddings import embed_texts

        vectors, _ = embed_texts(spec, items)
    else:
        name = getattr(settings, "WORKBENCH_FEATURIZER", "sentence-transformers")
        featurizer = al.get_featurizer("hashed" if name == "hashed" else settings.EMBEDDING_MODEL)
        texts = [t for data in items for t in spec.texts(data)]
        vectors = al.embed(texts, featurizer, progress=False).reshape(len(items), len(spec.embed_fields), -1)
    return spec.feature_rows(vectors)
