"""Shared data loading and embedding for the active-learning benchmarks (not a test module)."""

from __future__ import annotations

import gzip
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from active_learning.cache import FileEmbeddingCache  # noqa: E402
from active_learning.embed import embed  # noqa: E402
from active_learning.featurizers import get_featurizer  # noqa: E402

DATA = Path(os.environ.get("AL_BENCH_DATA", REPO.parent / "shared" / "data"))
OUT = REPO / "var" / "bench"
CACHE = REPO / "var" / "cache" / "embeddings"
# How MiniLM runs: any EMBEDDING_BACKEND (torch, onnx, onnx-int8, openvino-int8).
BACKEND = os.environ.get("AL_BENCH_BACKEND", "torch")
LABELS6 = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@dataclass
class Dataset:
    name: str
    X: NDArray[np.float32]  # (n, d) or (n, 2, d) for preference pairs
    y: NDArray[Any]  # (n,) binary / preference, (n, L) multilabel
    texts: list[str]
    label_names: list[str]


def featurize(
    texts: list[str], featurizer_name: str = "all-MiniLM-L6-v2", backend: str = BACKEND
) -> NDArray[np.float32]:
    f = get_featurizer(featurizer_name, **({} if featurizer_name == "hashed" else {"backend": backend}))
    cache = FileEmbeddingCache(CACHE, f.model_id, f.dim)
    return embed(texts, f, cache=cache, batch_size=64)


def jigsaw_binary(featurizer_name: str = "all-MiniLM-L6-v2", backend: str = BACKEND) -> Dataset:
    """Binary ``toxic``: the binary sample plus the six-label sample (original text), 5,802 rows."""
    a = pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv")
    b = pd.read_csv(DATA / "jigsaw_toxic_sample.csv")
    df = pd.concat([a[["id", "comment_text", "toxic"]], b[["id", "comment_text", "toxic"]]])
    df = df.drop_duplicates("id").reset_index(drop=True)
    texts = df["comment_text"].astype(str).tolist()
    X = featurize(texts, featurizer_name, backend)
    return Dataset("jigsaw_toxic", X, df["toxic"].to_numpy(np.int64), texts, ["toxic"])


def jigsaw_multilabel(featurizer_name: str = "all-MiniLM-L6-v2", backend: str = BACKEND) -> Dataset:
    """Six labels from the normalized-text file (7,150 rows; largest counts of rare labels)."""
    df = pd.read_csv(DATA / "jigsaw_toxic_normalized_sample.csv.gz")
    texts = df["comment_text"].fillna("").astype(str).tolist()
    X = featurize(texts, featurizer_name, backend)
    return Dataset("jigsaw_multilabel", X, df[LABELS6].to_numpy(np.int64), texts, LABELS6)


def hh_rlhf(
    featurizer_name: str = "all-MiniLM-L6-v2", seed: int = 0, max_pairs: int = 3000, backend: str = BACKEND
) -> Dataset:
    """Preference pairs (n, 2, d): A/B order randomised with ``seed``; y = 1 when A is chosen.

    The first ``max_pairs`` rows (the file is already a random sample) keep the one-off embedding
    cost bounded on 2 CPU cores (long responses embed at roughly 10-15 per second).
    """
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:max_pairs]
    chosen = [r["chosen_response"] for r in rows]
    rejected = [r["rejected_response"] for r in rows]
    emb = featurize(chosen + rejected, featurizer_name, backend)
    n = len(rows)
    ec, er = emb[:n], emb[n:]
    a_is_chosen = np.random.default_rng(seed).random(n) < 0.5
    A = np.where(a_is_chosen[:, None], ec, er)
    B = np.where(a_is_chosen[:, None], er, ec)
    # Identical chosen/rejected texts (24 rows upstream) are true ties.
    y = np.where(a_is_chosen, 1.0, 0.0)
    y[
        np.array(
            [r["chosen_equals_rejected"] or r["chosen_response"] == r["rejected_response"] for r in rows]
        )
    ] = 0.5
    return Dataset("hh_rlhf", np.stack([A, B], axis=1), y, [r["prompt"] for r in rows], ["A_preferred"])


if __name__ == "__main__":
    for loader in (jigsaw_binary, jigsaw_multilabel, hh_rlhf):
        ds = loader()
        print(ds.name, ds.X.shape, flush=True)
