"""Scale: one active-learning round over a million cached embeddings, and embedding throughput.

    .venv/bin/python bench/al_scale.py [--quick] [--n 1000000] [--k 1000] [--strategy margin+kmeans]

1. Generates (once) a pool of ``--n`` items: cached Jigsaw MiniLM embeddings resampled with small
   Gaussian perturbations and re-normalised, stored as float16 in a FileEmbeddingCache under
   var/cache/scale keyed by the sha256 of synthetic item texts.
2. In a fresh subprocess (so peak RSS is the round's own): open the cache, look up all n rows,
   train on 2,000 labeled items, score + select k with the strategy, write the queue (priority
   for every item as .npy, plus the top 10,000 positions as .csv). Reports seconds per phase and
   peak RSS (Label Studio push excluded).
3. Embedding throughput on uncached texts: ``embed()`` (hashing, dedupe, cache writes, progress
   bar) vs bare ``SentenceTransformer.encode`` on the same texts, same model, same process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from al_common import DATA, OUT, REPO, jigsaw_binary

from active_learning import FileEmbeddingCache, LabeledSet, Pool, content_keys, embed, run_round

SCALE_CACHE = REPO / "var" / "cache" / "scale"
MODEL_ID = "synthetic:jigsaw-minilm-perturbed:v1"
DIM = 384


def item_texts(n: int) -> list[str]:
    return [f"synthetic item {i}" for i in range(n)]


def scale_dir(n: int) -> Path:
    return SCALE_CACHE / f"n{n}"


def generate_pool(n: int) -> None:
    root = scale_dir(n)
    cache = FileEmbeddingCache(root, MODEL_ID, DIM)
    if len(cache) >= n and (root / "labels.npy").exists():
        cache.compact()
        return
    ds = jigsaw_binary()
    rng = np.random.default_rng(0)
    keys = content_keys(item_texts(n))
    labels = np.empty(n, dtype=np.int64)
    t = time.perf_counter()
    for start in range(0, n, 250_000):
        stop = min(n, start + 250_000)
        src = rng.integers(0, len(ds.X), size=stop - start)
        vec = ds.X[src] + rng.normal(0, 0.02, size=(stop - start, DIM)).astype(np.float32)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        cache.put(keys[start:stop], vec)
        labels[start:stop] = ds.y[src]
    cache.compact()  # one shard in item order: lookups of the whole pool become a memmap view
    np.save(root / "labels.npy", labels)
    print(f"generated {n:,} cached rows in {time.perf_counter() - t:.1f}s")


def round_only(n: int, k: int, strategy: str, n_labeled: int) -> None:
    """Runs in a fresh interpreter; prints one JSON line."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    keys = content_keys(item_texts(n))
    timings["hash_item_texts"] = time.perf_counter() - t0
    t = time.perf_counter()
    cache = FileEmbeddingCache(scale_dir(n), MODEL_ID, DIM)
    timings["open_cache_index"] = time.perf_counter() - t
    t = time.perf_counter()
    pool = cache.get(keys, dtype=np.float16)
    timings["lookup_rows"] = time.perf_counter() - t
    labels = np.load(scale_dir(n) / "labels.npy")
    rng = np.random.default_rng(0)
    labeled = rng.choice(n, size=n_labeled, replace=False)
    t = time.perf_counter()
    res = run_round(LabeledSet(pool[labeled], labels[labeled]), Pool(pool), strategy, k, rng)
    timings["run_round"] = time.perf_counter() - t
    for phase, secs in res.timings.items():
        timings[f"  {phase}"] = secs
    t = time.perf_counter()
    out = OUT / "scale_queue"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "priority.npy", res.scores.astype(np.float32))
    top = np.argsort(-res.scores, kind="stable")[:10_000]
    order = np.concatenate([res.positions, top[~np.isin(top, res.positions)]])[:10_000]
    np.savetxt(out / "queue_top10000.csv", order, fmt="%d", header="position", comments="")
    timings["write_queue"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "timings": timings,
                "peak_rss_mb": peak_mb,
                "selected": int(res.positions.shape[0]),
                "unique": int(np.unique(res.positions).shape[0]),
            }
        )
    )


def throughput(n_texts: int, batch_size: int) -> None:
    import pandas as pd

    from active_learning.featurizers import get_featurizer

    df = pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv")
    texts = [
        f"{t} [{i}]" for i, t in enumerate(df["comment_text"].astype(str).sample(n_texts, random_state=1))
    ]
    f = get_featurizer("all-MiniLM-L6-v2")
    model = f.model  # type: ignore[attr-defined]
    model.encode(texts[:32], batch_size=batch_size)  # warm-up (thread pools, first-call allocations)
    bare, ours = [], []
    for rep in range(2):
        t = time.perf_counter()
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        bare.append(len(texts) / (time.perf_counter() - t))
        with tempfile.TemporaryDirectory() as tmp:
            cache = FileEmbeddingCache(tmp, f.model_id, f.dim)
            t = time.perf_counter()
            embed(texts, f, cache=cache, batch_size=batch_size, progress=True)
            ours.append(len(texts) / (time.perf_counter() - t))
        print(f"  rep {rep}: bare encode {bare[-1]:.1f} texts/s, embed() {ours[-1]:.1f} texts/s", flush=True)
    ratio = np.median(ours) / np.median(bare)
    print(
        f"embedding throughput on {n_texts} uncached Jigsaw comments "
        f"(batch {batch_size}, {os.cpu_count()} cores): "
        f"bare {np.median(bare):.1f}/s, cached+batched embed() {np.median(ours):.1f}/s, ratio {ratio:.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--labeled", type=int, default=2000)
    parser.add_argument("--strategy", default="margin+kmeans")
    parser.add_argument("--texts", type=int, default=None)
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--round-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    if args.round_only:
        round_only(n, args.k, args.strategy, args.labeled)
        return
    if args.generate_only:
        generate_pool(n)
        return
    # Both steps run in fresh interpreters from a small parent: a forked child starts with its
    # parent's peak RSS as its own high-water mark, which would hide the round's real peak.
    subprocess.run([sys.executable, __file__, "--generate-only", "--n", str(n)], check=True)
    for strategy in dict.fromkeys([args.strategy, "margin"]):
        cmd = [
            sys.executable,
            __file__,
            "--round-only",
            "--n",
            str(n),
            "--k",
            str(args.k),
            "--labeled",
            str(args.labeled),
            "--strategy",
            strategy,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\none round, {strategy}, pool {n:,} x {DIM} float16 cached, {args.labeled} labeled, k={args.k} "
            f"({os.cpu_count()} cores):"
        )
        for phase, secs in result["timings"].items():
            print(f"  {phase:<22}{secs:8.2f} s")
        print(
            f"  peak RSS {result['peak_rss_mb']:.0f} MB; "
            f"selected {result['selected']} ({result['unique']} unique)"
        )
    if not args.skip_embed:
        throughput(args.texts or (64 if args.quick else 400), 64)


if __name__ == "__main__":
    main()
