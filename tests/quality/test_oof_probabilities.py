"""Out-of-fold probabilities for label issues when a class has a single label (library use in
the quality run, no database)."""

from __future__ import annotations

import numpy as np

from workbench.quality.analysis import _oof_single


def test_a_class_chosen_once_no_longer_skips_label_issues_for_everybody() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (20, 4)) + 3, rng.normal(0, 1, (20, 4)) - 3, np.zeros((1, 4))])
    labels = np.array([0] * 20 + [1] * 20 + [2], dtype=np.int64)  # one "tie"
    probs = _oof_single(X.astype(np.float32), labels, 3, np.random.default_rng(1))
    assert probs is not None and probs.shape == (41, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (probs[:20, 0] > 0.5).mean() > 0.9 and (probs[20:40, 1] > 0.5).mean() > 0.9
    assert probs[40, 2] < 1e-3  # the lone class's own item: scored by a model that never saw it


def test_too_little_to_train_on_gives_none() -> None:
    X = np.zeros((5, 2), dtype=np.float32)
    assert _oof_single(X, np.array([0, 0, 0, 0, 1]), 3, np.random.default_rng(0)) is None
