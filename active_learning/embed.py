"""Embed texts once: dedupe by content hash, reuse cached rows, batch the rest with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray
from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]

from .cache import EmbeddingCache, content_keys
from .errors import InvalidInputError
from .featurizers import Featurizer


def embed(
    texts: Sequence[str],
    featurizer: Featurizer,
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    chunk_size: int = 2048,
    progress: bool = True,
) -> NDArray[np.float32]:
    """Embeddings for ``texts`` (n,) as shape (n, dim) float32, computing each unique text once
    (see :func:`embed_counted`, which also says how many texts it had to encode)."""
    vectors, _ = embed_counted(
        texts, featurizer, cache=cache, batch_size=batch_size, chunk_size=chunk_size, progress=progress
    )
    return np.asarray(vectors, dtype=np.float32)


def embed_counted(
    texts: Sequence[str],
    featurizer: Featurizer,
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    chunk_size: int = 2048,
    progress: bool = True,
    dtype: DTypeLike = np.float32,
) -> tuple[NDArray[Any], int]:
    """Embeddings for ``texts`` (n,) as shape (n, dim) of ``dtype`` (float16 halves a large
    pool's memory; the file cache stores float16), and how many unique texts were encoded (the
    rest came from ``cache``).

    Texts not in ``cache`` are sorted by length (longest first, as sentence-transformers does
    inside one ``encode`` call) and encoded in chunks of ``chunk_size``; each chunk is written to
    the cache as soon as it is done, so an interrupted run keeps its progress. The cache must be
    bound to ``featurizer.model_id``.
    """
    if isinstance(texts, str):
        raise InvalidInputError("texts must be a sequence of strings, not one string")
    if batch_size < 1 or chunk_size < 1:
        raise InvalidInputError(f"batch_size and chunk_size must be >= 1; got {batch_size}, {chunk_size}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InvalidInputError(f"texts[{i}] is {type(t).__name__}, expected str")
    if cache is not None and cache.model_id != featurizer.model_id:
        raise InvalidInputError(
            f"cache is bound to model {cache.model_id!r} but featurizer is {featurizer.model_id!r}"
        )
    keys = content_keys(texts)
    if keys.shape[0] == 0:
        return np.empty((0, cache.dim if cache is not None else featurizer.dim), dtype=dtype), 0
    if cache is not None:
        try:  # a warm pool (every text cached) is looked up once, not twice
            return cache.get(keys, dtype=dtype), 0
        except KeyError:
            pass
        # Only what the cache lacks is deduplicated (a sort of n digests saved on a warm pool).
        absent = np.nonzero(~cache.contains(keys))[0]
        ukeys, first_absent = np.unique(keys[absent], return_index=True)
        first = absent[first_absent]
        missing: NDArray[Any] = np.arange(ukeys.shape[0])
    else:
        ukeys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        missing = np.arange(ukeys.shape[0])

    computed: NDArray[np.float32] | None = None
    if missing.shape[0]:
        lengths = np.array([len(texts[int(first[u])]) for u in missing])
        missing = missing[np.argsort(-lengths, kind="stable")]
        parts: list[NDArray[np.float32]] = []
        with tqdm(total=int(missing.shape[0]), unit="text", desc="embed", disable=not progress) as bar:
            for start in range(0, missing.shape[0], chunk_size):
                chunk = missing[start : start + chunk_size]
                vec = featurizer.encode([texts[int(first[u])] for u in chunk], batch_size=batch_size)
                if cache is not None:
                    cache.put(ukeys[chunk], vec)
                parts.append(vec)
                bar.update(int(chunk.shape[0]))
        computed = np.concatenate(parts)

    if cache is not None:
        # Always read back through the cache so a text gets the same vector (at the cache's
        # storage precision) whether it was computed now or on an earlier run.
        return cache.get(keys, dtype=dtype), int(missing.shape[0])
    if computed is None:
        raise InvalidInputError("nothing to embed")
    unique_vectors = np.empty((ukeys.shape[0], computed.shape[1]), dtype=dtype)
    unique_vectors[missing] = computed
    return unique_vectors[inverse.ravel()], int(missing.shape[0])
