"""Item features for out-of-fold predicted probabilities: one flat row per item, as the kind's
description says (:meth:`~workbench.projects.kinds.KindSpec.feature_rows`).

Texts are embedded through the rounds app's embedding cache (each text once per model, with the
one featurizer setting: ``WORKBENCH_FEATURIZER``, ``EMBEDDING_MODEL``, ``EMBEDDING_BACKEND``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from workbench.projects import kinds
from workbench.rounds.embeddings import embed_texts


def item_features(kind: kinds.Kind | str, items: Sequence[dict[str, Any]]) -> NDArray[np.float32]:
    """``(n, d)`` features for items given by their data (a preference pair's three texts become
    one row)."""
    spec = kinds.spec_of(kind)
    vectors, _ = embed_texts(spec, items)
    return spec.feature_rows(vectors)
