"""Small synthetic pools shared by the active-learning tests (fixed seeds, no files)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from active_learning.strategies import PoolView

WORDS_CLEAN = ["thanks", "article", "edit", "source", "page", "please", "good", "history", "section", "added"]
WORDS_TOXIC = ["idiot", "stupid", "hate", "moron", "loser"]


def blobs(
    n: int, d: int = 8, pos_rate: float = 0.2, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two overlapping Gaussian classes: X (n, d), y (n,)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < pos_rate).astype(np.int64)
    X = rng.normal(size=(n, d)) + 1.5 * y[:, None] * np.eye(d)[0]
    return X, y


def texts(n: int, seed: int = 0) -> tuple[list[str], NDArray[np.int64]]:
    """Tiny comments; about a fifth contain insult words (label 1)."""
    rng = np.random.default_rng(seed)
    out, labels = [], []
    for i in range(n):
        toxic = rng.random() < 0.2
        words = list(rng.choice(WORDS_CLEAN, size=6))
        if toxic:
            words[int(rng.integers(6))] = str(rng.choice(WORDS_TOXIC))
        out.append(" ".join(words) + f" #{i}")
        labels.append(int(toxic))
    return out, np.array(labels, dtype=np.int64)


def full_view(n: int = 60, seed: int = 0, n_classes: int = 2) -> PoolView:
    """A binary pool view carrying every input any registered strategy may need."""
    rng = np.random.default_rng(seed)
    p1 = rng.random(n)
    proba = np.column_stack([1 - p1, p1])
    committee = np.stack(
        [np.column_stack([1 - q, q]) for q in np.clip(p1 + rng.normal(0, 0.2, size=(5, n)), 0, 1)]
    )
    features = rng.normal(size=(n, 4))
    annotations = np.full((n, 4), np.nan)
    labeled = rng.random(n) < 0.5
    for i in np.nonzero(labeled)[0]:
        cols = rng.choice(4, size=int(rng.integers(1, 4)), replace=False)
        annotations[i, cols] = rng.integers(0, n_classes, size=cols.shape[0])
    txt, _ = texts(n, seed)
    votes = np.stack([np.sum(annotations == c, axis=1) for c in range(n_classes)], axis=1)
    return PoolView(
        n=n,
        task="binary",
        proba=proba,
        committee_proba=committee,
        features=features,
        labeled_features=rng.normal(size=(10, 4)),
        texts=txt,
        annotations=annotations,
        vote_counts=votes.astype(np.float64),
        prompt_features=rng.normal(size=(n, 4)),
        gold=rng.random(n) < 0.2,
    )


def as_list(x: Any) -> list[int]:
    return [int(v) for v in np.asarray(x)]
