"""The only module that imports modAL.

modAL's measures take a fitted estimator / committee and call ``predict_proba`` / ``vote`` /
``vote_proba`` on ``X``. We never let modAL train anything (its ``ActiveLearner`` / ``Committee``
training breaks on scikit-learn >= 1.8); instead we hand it thin stand-ins that return
probabilities computed elsewhere, and pass the pool *positions* as ``X``. The numbers are modAL's
own definitions (uncertainty = 1 - max p; margin = p1 - p2; Shannon entropy; vote entropy;
max KL divergence of a member from the consensus).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

_modules: dict[str, ModuleType] = {}


def _modal() -> dict[str, ModuleType]:
    """Import modAL's measure modules once, lazily.

    ``modAL.utils.data`` does ``try: import torch except: pass`` at import time, only for torch
    tensor inputs we never pass; that would cost 8-10 s and ~300 MB in every worker that merely
    scores a pool. Unless torch is already loaded, we make that optional import fail (``None`` in
    ``sys.modules`` is Python's documented "import blocked" marker) and restore it immediately.
    """
    if not _modules:
        blocked = "torch" not in sys.modules
        if blocked:
            sys.modules["torch"] = None  # type: ignore[assignment]
        try:
            import modAL.disagreement as disagreement  # type: ignore[import-untyped,unused-ignore]
            import modAL.uncertainty as uncertainty  # type: ignore[import-untyped,unused-ignore]
        finally:
            if blocked and sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]
        _modules["uncertainty"] = uncertainty
        _modules["disagreement"] = disagreement
    return _modules


class _PrecomputedClassifier:
    """Looks like a fitted sklearn classifier to modAL; ``X`` is an array of row positions."""

    def __init__(self, proba: NDArray[np.float64]) -> None:
        self._proba = proba
        self.classes_ = np.arange(proba.shape[1])

    def predict_proba(self, X: NDArray[np.intp], **_: Any) -> NDArray[np.float64]:
        return self._proba[X]


class _PrecomputedCommittee:
    """Looks like a fitted modAL Committee: ``vote`` / ``vote_proba`` from member probabilities.

    ``committee_proba`` has shape (n_members, n, n_classes); a member votes for its argmax class.
    """

    def __init__(self, committee_proba: NDArray[np.float64]) -> None:
        self._proba = committee_proba
        self.classes_ = np.arange(committee_proba.shape[2])

    def __len__(self) -> int:
        return int(self._proba.shape[0])

    def __iter__(self) -> Any:
        return iter(range(self._proba.shape[0]))

    def vote(self, X: NDArray[np.intp], **_: Any) -> NDArray[np.intp]:
        votes: NDArray[np.intp] = np.argmax(self._proba[:, X, :], axis=2).T
        return votes

    def vote_proba(self, X: NDArray[np.intp], **_: Any) -> NDArray[np.float64]:
        return np.transpose(self._proba[:, X, :], (1, 0, 2))


def _positions(n: int) -> NDArray[np.intp]:
    return np.arange(n, dtype=np.intp)


def least_confidence(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """modAL ``classifier_uncertainty``: 1 - max_c p. proba (n, c) -> (n,)."""
    return np.asarray(
        _modal()["uncertainty"].classifier_uncertainty(
            _PrecomputedClassifier(proba), _positions(proba.shape[0])
        ),
        dtype=np.float64,
    )


def margin(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """modAL ``classifier_margin``: p_top1 - p_top2 (small = uncertain). proba (n, c) -> (n,)."""
    return np.asarray(
        _modal()["uncertainty"].classifier_margin(_PrecomputedClassifier(proba), _positions(proba.shape[0])),
        dtype=np.float64,
    )


def entropy(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """modAL ``classifier_entropy`` (nats). proba (n, c) -> (n,)."""
    return np.asarray(
        _modal()["uncertainty"].classifier_entropy(_PrecomputedClassifier(proba), _positions(proba.shape[0])),
        dtype=np.float64,
    )


def committee_vote_entropy(committee_proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """modAL ``vote_entropy``. committee_proba (m, n, c) -> (n,).

    modAL counts votes with a Python loop per item (about 5 us each), fine for pools of up to a
    few hundred thousand items.
    """
    committee = _PrecomputedCommittee(committee_proba)
    return np.asarray(
        _modal()["disagreement"].vote_entropy(committee, _positions(committee_proba.shape[1])),
        dtype=np.float64,
    )


def committee_kl_max(committee_proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """modAL ``KL_max_disagreement``. committee_proba (m, n, c) -> (n,)."""
    committee = _PrecomputedCommittee(committee_proba)
    return np.asarray(
        _modal()["disagreement"].KL_max_disagreement(committee, _positions(committee_proba.shape[1])),
        dtype=np.float64,
    )
