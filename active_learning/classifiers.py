"""Probabilistic classifiers on embeddings: binary/multiclass, multi-label, pairwise preference.

All expose ``fit(X, y) -> self`` and ``predict_proba(X)``; prediction runs in row chunks
converted to float32 so a float16 memory-mapped pool of a million rows is never copied whole.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped,unused-ignore]

from .errors import InvalidInputError
from .validation import as_2d_float, check_same_rows, shape_of

Task = Literal["binary", "multiclass", "multilabel", "preference"]
TASKS: tuple[Task, ...] = ("binary", "multiclass", "multilabel", "preference")
CHUNK_ROWS = 65536


def _chunked_decision(
    X: NDArray[Any], coef: NDArray[np.float64], intercept: NDArray[np.float64]
) -> NDArray[np.float64]:
    """X @ coef.T + intercept in float32 chunks; returns (n, n_outputs) float64."""
    coef32 = np.ascontiguousarray(coef.T, dtype=np.float32)
    out = np.empty((X.shape[0], coef.shape[0]), dtype=np.float64)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        block = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float32)
        out[start : start + CHUNK_ROWS] = block @ coef32
    out += intercept
    return out


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def _int_labels(y: Any, name: str, n_classes: int) -> NDArray[np.int64]:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D (n,); got shape {shape_of(arr)}")
    if arr.size and (not np.all(np.isfinite(arr.astype(np.float64))) or np.any(arr != np.round(arr))):
        raise InvalidInputError(f"{name} must hold integer class ids")
    labels = arr.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InvalidInputError(
            f"{name} must hold class ids in [0, {n_classes}); got range [{labels.min()}, {labels.max()}]"
        )
    return labels


class LogisticClassifier:
    """Class-weighted logistic regression for binary (``n_classes=2``) or multiclass labels.

    ``class_weight="balanced"`` by default because toxicity is rare. If the labels contain a single
    class the model falls back to smoothed class priors ``(count + 1) / (n + n_classes)`` for every
    item (``is_prior_only`` is True) instead of failing; uncertainty scores are then flat and ties
    are broken by the strategy's random generator.
    """

    def __init__(
        self,
        n_classes: int = 2,
        *,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
    ) -> None:
        if n_classes < 2:
            raise InvalidInputError(f"n_classes must be >= 2; got {n_classes}")
        self.n_classes = n_classes
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.is_prior_only = False
        self._coef: NDArray[np.float64] = np.zeros((0, 0))
        self._intercept: NDArray[np.float64] = np.zeros(0)
        self._classes: NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._prior: NDArray[np.float64] = np.full(n_classes, 1.0 / n_classes)
        self._fitted = False

    def fit(self, X: Any, y: Any) -> LogisticClassifier:
        """X: (n, d) features; y: (n,) class ids in [0, n_classes)."""
        Xa = as_2d_float(X, "X")
        labels = _int_labels(y, "y", self.n_classes)
        check_same_rows(Xa, labels, "X", "y")
        counts = np.bincount(labels, minlength=self.n_classes).astype(np.float64)
        self._prior = (counts + 1.0) / (counts.sum() + self.n_classes)
        self._classes = np.nonzero(counts)[0]
        self.is_prior_only = self._classes.shape[0] < 2
        if not self.is_prior_only:
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
            model.fit(np.asarray(Xa, dtype=np.float32), labels)
            self._coef = np.asarray(model.coef_, dtype=np.float64)
            self._intercept = np.asarray(model.intercept_, dtype=np.float64)
        self._fitted = True
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Returns (n, n_classes) probabilities; classes absent from training get probability 0."""
        if not self._fitted:
            raise InvalidInputError("LogisticClassifier is not fitted")
        Xa = as_2d_float(X, "X", allow_empty=True)
        n = Xa.shape[0]
        if self.is_prior_only:
            return np.tile(self._prior, (n, 1))
        if Xa.shape[1] != self._coef.shape[1]:
            raise InvalidInputError(
                f"X has {Xa.shape[1]} features; model was fitted on {self._coef.shape[1]}"
            )
        z = _chunked_decision(Xa, self._coef, self._intercept)
        seen = _sigmoid(np.column_stack([-z[:, 0], z[:, 0]])) if self._classes.shape[0] == 2 else _softmax(z)
        out = np.zeros((n, self.n_classes))
        out[:, self._classes] = seen
        return out


class MultiLabelClassifier:
    """One-vs-rest class-weighted logistic regression with independent per-label probabilities.

    A label with fewer than ``min_positives`` positives (or negatives) in the training set is not
    fitted: it predicts its smoothed prior ``(positives + 1) / (n + 2)`` for every item and is listed
    in ``prior_only_labels``. Rare labels (Jigsaw ``threat``) therefore degrade to a constant
    instead of crashing or overfitting two examples.
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        min_positives: int = 3,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
    ) -> None:
        self.C = C
        self.min_positives = min_positives
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.prior_only_labels: list[int] = []
        self._models: list[LogisticClassifier | float] = []

    def fit(self, X: Any, Y: Any) -> MultiLabelClassifier:
        """X: (n, d); Y: (n, n_labels) of 0/1."""
        Xa = as_2d_float(X, "X")
        Ya = np.asarray(Y)
        if Ya.ndim != 2 or Ya.shape[1] < 1:
            raise InvalidInputError(f"Y must be 2-D (n, n_labels); got shape {shape_of(Ya)}")
        check_same_rows(Xa, Ya, "X", "Y")
        if not np.isin(Ya, (0, 1)).all():
            raise InvalidInputError("Y must hold 0/1 values")
        Ya = Ya.astype(np.int64)
        self._models = []
        self.prior_only_labels = []
        n = Ya.shape[0]
        for j in range(Ya.shape[1]):
            pos = int(Ya[:, j].sum())
            if pos < self.min_positives or n - pos < self.min_positives:
                self._models.append((pos + 1.0) / (n + 2.0))
                self.prior_only_labels.append(j)
            else:
                clf = LogisticClassifier(2, C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
                self._models.append(clf.fit(Xa, Ya[:, j]))
        return self

    @property
    def n_labels(self) -> int:
        return len(self._models)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Returns (n, n_labels): P(label j is present) for each item."""
        if not self._models:
            raise InvalidInputError("MultiLabelClassifier is not fitted")
        Xa = as_2d_float(X, "X", allow_empty=True)
        out = np.empty((Xa.shape[0], len(self._models)))
        for j, m in enumerate(self._models):
            out[:, j] = m if isinstance(m, float) else m.predict_proba(Xa)[:, 1]
        return out


def _check_pairs(X: Any, name: str = "X") -> NDArray[Any]:
    arr = X if isinstance(X, np.ndarray) else np.asarray(X)
    if arr.ndim != 3 or arr.shape[1] not in (2, 3):
        raise InvalidInputError(
            f"{name} must have shape (n, 2, d) [response A, response B] or (n, 3, d) [A, B, prompt]; "
            f"got {shape_of(arr)}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def pair_features(X: Any, use_prompt: bool) -> NDArray[np.float32]:
    """Bradley-Terry design matrix from pairs (n, 2|3, d): ``a - b`` (n, d), plus
    ``prompt * (a - b)`` (n, 2d) when ``use_prompt`` (needs the prompt slot)."""
    arr = _check_pairs(X)
    diff = np.asarray(arr[:, 0], dtype=np.float32) - np.asarray(arr[:, 1], dtype=np.float32)
    if not use_prompt:
        return diff
    if arr.shape[1] != 3:
        raise InvalidInputError(f"use_prompt=True needs pairs of shape (n, 3, d); got {shape_of(arr)}")
    return np.hstack([diff, np.asarray(arr[:, 2], dtype=np.float32) * diff])


class PreferenceModel:
    """Bradley-Terry style model: P(A preferred over B) = sigmoid(w . phi(a, b)).

    ``phi`` is antisymmetric (``a - b``, optionally times the prompt), there is no intercept, and
    every pair is also trained mirrored, so P(A > B) = 1 - P(B > A) exactly and a position bias
    cannot be learned. Labels: 1 = A preferred, 0 = B preferred, 0.5 = tie. A tie is trained as
    half a win each way (weight 0.5 on both outcomes), which pulls that pair's probability towards
    0.5 without a separate tie class.
    """

    def __init__(self, *, C: float = 1.0, use_prompt: bool = False, max_iter: int = 2000) -> None:
        self.C = C
        self.use_prompt = use_prompt
        self.max_iter = max_iter
        self._w: NDArray[np.float64] = np.zeros(0)
        self._fitted = False

    def fit(self, X: Any, y: Any) -> PreferenceModel:
        """X: (n, 2|3, d) pairs; y: (n,) in {0, 0.5, 1}."""
        phi = pair_features(X, self.use_prompt)
        ya = np.asarray(y, dtype=np.float64)
        if ya.ndim != 1:
            raise InvalidInputError(f"y must be 1-D (n,); got shape {shape_of(ya)}")
        check_same_rows(phi, ya, "X", "y")
        if not np.isin(ya, (0.0, 0.5, 1.0)).all():
            raise InvalidInputError("preference labels must be 1 (A preferred), 0 (B preferred) or 0.5 (tie)")
        # Each pair contributes (phi, A wins) with weight y and (phi, B wins) with weight 1 - y,
        # mirrored as (-phi, ...) with the outcomes swapped.
        Z = np.vstack([phi, phi, -phi, -phi])
        t = np.concatenate([np.ones_like(ya), np.zeros_like(ya), np.zeros_like(ya), np.ones_like(ya)])
        w = np.concatenate([ya, 1 - ya, ya, 1 - ya])
        keep = w > 0
        model = LogisticRegression(C=self.C, fit_intercept=False, max_iter=self.max_iter)
        model.fit(Z[keep], t[keep].astype(np.int64), sample_weight=w[keep])
        self._w = np.asarray(model.coef_[0], dtype=np.float64)
        self._fitted = True
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Returns (n, 2): column 0 = P(B preferred), column 1 = P(A preferred)."""
        if not self._fitted:
            raise InvalidInputError("PreferenceModel is not fitted")
        phi = pair_features(X, self.use_prompt)
        if phi.shape[1] != self._w.shape[0]:
            raise InvalidInputError(
                f"pair features have {phi.shape[1]} columns; model expects {self._w.shape[0]}"
            )
        p = _sigmoid(_chunked_decision(phi, self._w[None, :], np.zeros(1))[:, 0])
        return np.column_stack([1 - p, p])


Model = LogisticClassifier | MultiLabelClassifier | PreferenceModel


def make_model(task: Task, *, n_classes: int = 2, **params: Any) -> Model:
    """Default model for a task (``params`` go to its constructor)."""
    if task == "binary":
        return LogisticClassifier(2, **params)
    if task == "multiclass":
        return LogisticClassifier(n_classes, **params)
    if task == "multilabel":
        return MultiLabelClassifier(**params)
    if task == "preference":
        return PreferenceModel(**params)
    raise InvalidInputError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
