"""Embedding caches keyed by (model, sha256 of the text).

A cache is bound to one model (``model_id``) and one dimension; the key of a row is the
sha256 digest of the UTF-8 text. :class:`FileEmbeddingCache` stores rows as append-only ``.npy``
shards under ``<root>/<model-slug>-<hash>/`` so millions of rows are read back with memory
mapping, and the lookup index is a sorted uint64 prefix array searched with ``np.searchsorted``
(vectorised; no per-row Python dict).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .errors import InvalidInputError

KEY_DTYPE = np.dtype("S32")


def content_keys(texts: Iterable[str]) -> NDArray[np.bytes_]:
    """sha256 digest of each text's UTF-8 bytes. Returns shape (n,), dtype ``S32``."""
    digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
    return np.array(digests, dtype=KEY_DTYPE) if digests else np.empty(0, dtype=KEY_DTYPE)


def _check_keys(keys: Any) -> NDArray[np.bytes_]:
    arr = np.asarray(keys)
    if arr.ndim != 1 or arr.dtype != KEY_DTYPE:
        raise InvalidInputError(
            f"keys must be a 1-D array of sha256 digests (dtype S32, see content_keys); "
            f"got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr


def _prefix(keys: NDArray[np.bytes_]) -> NDArray[np.uint64]:
    """First 8 bytes of each digest as a big-endian uint64 (sort order == byte order)."""
    raw = np.frombuffer(np.ascontiguousarray(keys).tobytes(), dtype=np.uint8).reshape(-1, 32)
    return np.ascontiguousarray(raw[:, :8]).view(">u8").ravel().astype(np.uint64)


@runtime_checkable
class EmbeddingCache(Protocol):
    """Rows of one model's embeddings keyed by text digest."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def contains(self, keys: NDArray[np.bytes_]) -> NDArray[np.bool_]:
        """Shape (n,) mask of which keys are stored."""
        ...

    def get(self, keys: NDArray[np.bytes_], dtype: DTypeLike = np.float32) -> NDArray[Any]:
        """Rows for ``keys`` (n,) as shape (n, dim); raises ``KeyError`` if any is missing."""
        ...

    def put(self, keys: NDArray[np.bytes_], vectors: NDArray[Any]) -> None:
        """Store rows (n, dim) under ``keys`` (n,); keys already present are skipped."""
        ...


def _check_vectors(keys: NDArray[np.bytes_], vectors: Any, dim: int) -> NDArray[Any]:
    vec = np.asarray(vectors)
    if vec.ndim != 2 or vec.shape[1] != dim or vec.shape[0] != keys.shape[0]:
        raise InvalidInputError(
            f"vectors must have shape (n_keys={keys.shape[0]}, dim={dim}); got {vec.shape}"
        )
    if not np.all(np.isfinite(vec)):
        raise InvalidInputError("vectors must be finite")
    return vec


class MemoryEmbeddingCache:
    """Dict-backed cache for tests and small jobs."""

    def __init__(self, model_id: str, dim: int) -> None:
        self._model_id = model_id
        self._dim = int(dim)
        self._rows: dict[bytes, NDArray[np.float32]] = {}

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._rows)

    def contains(self, keys: NDArray[np.bytes_]) -> NDArray[np.bool_]:
        keys = _check_keys(keys)
        return np.array([bytes(k) in self._rows for k in keys], dtype=bool)

    def get(self, keys: NDArray[np.bytes_], dtype: DTypeLike = np.float32) -> NDArray[Any]:
        keys = _check_keys(keys)
        out = np.empty((keys.shape[0], self._dim), dtype=dtype)
        for i, k in enumerate(keys):
            out[i] = self._rows[bytes(k)]
        return out

    def put(self, keys: NDArray[np.bytes_], vectors: NDArray[Any]) -> None:
        keys = _check_keys(keys)
        vec = _check_vectors(keys, vectors, self._dim)
        for k, v in zip(keys, vec, strict=True):  # _check_vectors matched the lengths
            self._rows.setdefault(bytes(k), np.array(v, dtype=np.float32))


def _shard_name() -> str:
    """Time-ordered unique name: sorted shard names = insertion order, so compact() keeps it."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"


def model_dir_name(model_id: str) -> str:
    """Directory name for a model: readable slug plus a hash so distinct ids never collide."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[-60:].strip("_") or "model"
    return f"{slug}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:12]}"


# Rows a dense run of one shard is read in, with a file read (see _read_rows).
READ_BLOCK_ROWS = 65_536


def _read_rows(shard: NDArray[Any], local: NDArray[np.int64], into: NDArray[Any]) -> None:
    """Fill ``into`` (one row per entry of ``local``) with rows ``local`` (ascending) of a
    memory-mapped shard. Dense runs are read with plain file reads, block by block: pages touched
    through the mapping stay in the process's resident set, so reading a million rows through it
    counted the whole 768 MB of shards on top of the copy in peak RSS (and page faults cost more
    than the reads). Sparse rows go through the mapping, which touches only their pages."""
    if not isinstance(shard, np.memmap) or shard.filename is None or not shard.flags.c_contiguous:
        into[:] = shard[local]
        return
    width = int(np.prod(shard.shape[1:]))  # values per row
    cuts = np.flatnonzero(np.diff(local // READ_BLOCK_ROWS)) + 1
    for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, local.shape[0]].tolist(), strict=True):
        first, span = int(local[a]), int(local[b - 1] - local[a]) + 1
        if (b - a) * 4 >= span and _read_run(shard, first, span, width, local[a:b] - first, into[a:b]):
            continue
        into[a:b] = shard[local[a:b]]


def _read_run(
    shard: np.memmap[Any, Any], first: int, span: int, width: int, rows: NDArray[np.int64], into: NDArray[Any]
) -> bool:
    """Rows ``first + rows`` of the run ``[first, first + span)`` of a shard's file into ``into``;
    False when the file cannot be read whole (another process compacted it away: the mapping
    still holds it)."""
    whole_run = span == rows.shape[0]
    try:
        with open(str(shard.filename), "rb") as f:
            f.seek(int(shard.offset) + first * width * shard.dtype.itemsize)
            if whole_run and into.dtype == shard.dtype and into.flags.c_contiguous:
                return f.readinto(memoryview(into.data).cast("B")) == into.nbytes  # straight into place
            block = np.fromfile(f, dtype=shard.dtype, count=span * width)
    except OSError:
        return False
    if block.shape[0] != span * width:
        return False
    block = block.reshape(span, *shard.shape[1:])
    into[:] = block if whole_run else block[rows]
    return True


class FileEmbeddingCache:
    """Append-only ``.npy`` shard store for one model under ``root``.

    Layout: ``<root>/<model_dir_name(model_id)>/meta.json`` plus pairs
    ``<shard>.vec.npy`` (m, dim) and ``<shard>.keys.npy`` (m,) S32. A shard becomes visible only
    when its keys file is renamed into place (written last, atomically), so a crash never leaves a
    half-written row readable. Several processes may append (unique shard names); call
    :meth:`reload` to see their shards. ``dtype`` is the storage dtype: float16 halves disk and
    memory (about 3 significant digits, ample for cosine similarity on normalised embeddings).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        model_id: str,
        dim: int,
        *,
        dtype: DTypeLike = np.float16,
    ) -> None:
        if int(dim) < 1:
            raise InvalidInputError(f"dim must be >= 1; got {dim}")
        self._model_id = model_id
        self._dim = int(dim)
        self._dtype = np.dtype(dtype)
        if self._dtype not in (np.dtype(np.float16), np.dtype(np.float32)):
            raise InvalidInputError(f"dtype must be float16 or float32; got {self._dtype}")
        self.directory = Path(root) / model_dir_name(model_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._check_meta()
        self.reload()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def _check_meta(self) -> None:
        meta_path = self.directory / "meta.json"
        meta = {"model_id": self._model_id, "dim": self._dim, "dtype": self._dtype.name}
        if meta_path.exists():
            stored = json.loads(meta_path.read_text())
            if stored != meta:
                raise InvalidInputError(f"cache at {self.directory} holds {stored}, not {meta}")
        else:
            tmp = meta_path.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_text(json.dumps(meta, sort_keys=True))
            os.replace(tmp, meta_path)

    def reload(self) -> None:
        """Re-read the shard list and rebuild the sorted index (picks up other writers)."""
        names = sorted(p.name[: -len(".keys.npy")] for p in self.directory.glob("*.keys.npy"))
        self._shards: list[NDArray[Any]] = []
        key_parts: list[NDArray[np.bytes_]] = []
        for name in names:
            keys = np.load(self.directory / f"{name}.keys.npy")
            vec = np.load(self.directory / f"{name}.vec.npy", mmap_mode="r")
            self._shards.append(vec)
            key_parts.append(keys)
        sizes = np.array([len(k) for k in key_parts], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        all_keys = np.concatenate(key_parts) if key_parts else np.empty(0, dtype=KEY_DTYPE)
        prefixes = _prefix(all_keys)
        order = np.argsort(prefixes, kind="stable")
        self._sorted_prefix = prefixes[order]
        self._sorted_keys = all_keys[order]
        self._sorted_row = order.astype(np.int64)

    def __len__(self) -> int:
        return int(self._sorted_row.shape[0])

    def _locate(self, keys: NDArray[np.bytes_]) -> NDArray[np.int64]:
        """Global row of each key, -1 when absent."""
        keys = _check_keys(keys)
        out = np.full(keys.shape[0], -1, dtype=np.int64)
        if keys.shape[0] == 0 or self._sorted_prefix.shape[0] == 0:
            return out
        q = _prefix(keys)
        # Searched in sorted order (the index is walked once, not jumped about: a million random
        # keys took 1.0 s unsorted, 0.3 s with the sort), the bounds put back in the keys' order.
        order = np.argsort(q)
        left, right = np.empty_like(order), np.empty_like(order)
        left[order] = np.searchsorted(self._sorted_prefix, q[order], side="left")
        right[order] = np.searchsorted(self._sorted_prefix, q[order], side="right")
        single = (right - left) == 1
        idx = np.nonzero(single)[0]
        hit = self._sorted_keys[left[idx]] == keys[idx]
        out[idx[hit]] = self._sorted_row[left[idx[hit]]]
        # 64-bit prefix collisions (about n^2 / 2^65: ~3e-8 at a million rows) fall back to a scan.
        for i in np.nonzero((right - left) > 1)[0]:
            for j in range(int(left[i]), int(right[i])):
                if self._sorted_keys[j] == keys[i]:
                    out[i] = self._sorted_row[j]
                    break
        return out

    def contains(self, keys: NDArray[np.bytes_]) -> NDArray[np.bool_]:
        return self._locate(keys) >= 0

    def get(self, keys: NDArray[np.bytes_], dtype: DTypeLike = np.float32) -> NDArray[Any]:
        """Rows (n, dim). When the keys are a contiguous run of one shard in storage order and
        ``dtype`` is the storage dtype, the result is a read-only memmap view (no copy)."""
        rows = self._locate(keys)
        if np.any(rows < 0):
            missing = int(np.sum(rows < 0))
            raise KeyError(f"{missing} of {rows.shape[0]} keys are not in the cache {self.directory}")
        shard_of = np.searchsorted(self._offsets, rows, side="right") - 1
        if rows.shape[0] and np.dtype(dtype) == self._dtype and shard_of[0] == shard_of[-1]:
            start = int(rows[0])
            if np.array_equal(rows, np.arange(start, start + rows.shape[0])):
                # Keys in storage order within one shard (e.g. a whole compacted pool): return a
                # read-only memory-mapped view instead of copying millions of rows.
                local = start - int(self._offsets[shard_of[0]])
                view: NDArray[Any] = self._shards[int(shard_of[0])][local : local + rows.shape[0]]
                return view
        out = np.empty((rows.shape[0], self._dim), dtype=dtype)
        # One sort groups the rows by shard (shards are consecutive in row order), so each shard
        # is read once, in storage order: a mask per shard would cost n x shards comparisons.
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        bounds = np.searchsorted(ordered, self._offsets, side="left")
        for s in range(len(self._shards)):
            lo, hi = int(bounds[s]), int(bounds[s + 1])
            if lo == hi:
                continue
            local, dest = ordered[lo:hi] - self._offsets[s], order[lo:hi]
            if int(dest[-1]) - int(dest[0]) == hi - lo - 1 and bool(np.all(np.diff(dest) == 1)):
                # These keys were asked for in storage order: their rows are filled in place.
                _read_rows(self._shards[s], local, out[int(dest[0]) : int(dest[-1]) + 1])
            else:
                part = np.empty((hi - lo, self._dim), dtype=dtype)
                _read_rows(self._shards[s], local, part)
                out[dest] = part
        return out

    def put(self, keys: NDArray[np.bytes_], vectors: NDArray[Any]) -> None:
        self.put_many([(keys, vectors)])

    def _write_shard(self, keys: NDArray[np.bytes_], vectors: NDArray[Any]) -> NDArray[Any]:
        """Write one shard (keys file last, so it becomes visible complete); its vectors mapped."""
        name = _shard_name()
        vec_tmp = self.directory / f"{name}.vec.tmp.npy"
        key_tmp = self.directory / f"{name}.keys.tmp.npy"
        np.save(vec_tmp, vectors.astype(self._dtype))
        np.save(key_tmp, keys)
        os.replace(vec_tmp, self.directory / f"{name}.vec.npy")
        os.replace(key_tmp, self.directory / f"{name}.keys.npy")
        mapped: NDArray[Any] = np.load(self.directory / f"{name}.vec.npy", mmap_mode="r")
        return mapped

    def _append_to_index(self, shards: list[tuple[NDArray[np.bytes_], NDArray[Any]]]) -> None:
        """Add new shards to the in-memory index (one sort) without re-reading the others."""
        if not shards:
            return
        base = int(self._offsets[-1])
        sizes = np.array([k.shape[0] for k, _ in shards], dtype=np.int64)
        self._shards.extend(v for _, v in shards)
        self._offsets = np.concatenate([self._offsets, base + np.cumsum(sizes)]).astype(np.int64)
        new_keys = np.concatenate([k for k, _ in shards])
        prefixes = np.concatenate([self._sorted_prefix, _prefix(new_keys)])
        all_keys = np.concatenate([self._sorted_keys, new_keys])
        rows = np.concatenate([self._sorted_row, base + np.arange(new_keys.shape[0], dtype=np.int64)])
        order = np.argsort(prefixes, kind="stable")
        self._sorted_prefix, self._sorted_keys, self._sorted_row = (
            prefixes[order],
            all_keys[order],
            rows[order],
        )

    def put_many(self, batches: Iterable[tuple[NDArray[np.bytes_], NDArray[Any]]]) -> None:
        """Store several (keys, vectors) batches, one shard each, indexed together (one sort of
        the index for all of them: a bulk load of a million rows in thousands of shards stays
        O(n log n)). Keys already stored, or repeated within or across the batches, are skipped."""
        checked = []
        for keys, vectors in batches:
            k = _check_keys(keys)
            checked.append((k, _check_vectors(k, vectors, self._dim)))
        if not checked:
            return
        every = np.concatenate([k for k, _ in checked])
        keep = np.zeros(every.shape[0], dtype=bool)
        keep[np.unique(every, return_index=True)[1]] = True
        keep &= ~self.contains(every)
        written: list[tuple[NDArray[np.bytes_], NDArray[Any]]] = []
        start = 0
        for keys, vec in checked:
            fresh = np.nonzero(keep[start : start + keys.shape[0]])[0]
            start += keys.shape[0]
            if fresh.shape[0]:
                written.append((keys[fresh], self._write_shard(keys[fresh], vec[fresh])))
        self._append_to_index(written)

    def compact(self) -> None:
        """Merge all shards into one (fewer files to open; run when no one else writes)."""
        if len(self._shards) <= 1:
            return
        old = [p for p in self.directory.glob("*.npy")]
        keys = self._sorted_keys[np.argsort(self._sorted_row)]
        vectors = self.get(keys, dtype=self._dtype)
        name = _shard_name()
        np.save(self.directory / f"{name}.vec.tmp.npy", vectors)
        np.save(self.directory / f"{name}.keys.tmp.npy", keys)
        os.replace(self.directory / f"{name}.vec.tmp.npy", self.directory / f"{name}.vec.npy")
        os.replace(self.directory / f"{name}.keys.tmp.npy", self.directory / f"{name}.keys.npy")
        for p in old:
            if p.name.endswith(".keys.npy"):
                p.unlink()
        for p in old:
            p.unlink(missing_ok=True)
        self.reload()
