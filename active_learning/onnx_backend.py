"""Exported runs of a sentence-transformers model (Transformer + mean Pooling + Normalize).

Why not sentence-transformers' own ``backend="onnx"``: it goes through ``optimum-onnx``, whose
latest release (0.1.0) needs ``transformers<4.58`` and fails to import beside the
``transformers`` 5 that sentence-transformers 6 requires. So this module does the same steps
with the underlying tools directly (ONNX Runtime, and NNCF and OpenVINO for ``openvino-int8``,
with no optimum in between), offline, from the model's local files:

1. **export** once: ``torch.onnx.export`` of the transformer (the only step that imports torch),
   written under ``cache_dir`` and reused by every later process;
2. **int8** once, for the int8 backends:

   * ``onnx-int8``: ONNX Runtime's dynamic quantisation of the MatMul weights, per channel (what
     sentence-transformers' ``export_dynamic_quantized_onnx_model`` asks optimum for);
   * ``openvino-int8``: NNCF's int8 weight compression of the same export (asymmetric, per
     output channel; no calibration data, so every machine computes the same file), run by
     OpenVINO with dynamic quantisation of the activations in groups of
     :data:`OPENVINO_ACTIVATION_GROUP`, so the matrix products run on int8 units while each
     group of 32 activations keeps its own scale (the coarser the scales, the further the
     worst texts drift from float32: docs/benchmarks.md has the figures);

3. **encode**: the model's own ``tokenizer.json`` (``tokenizers``, no torch), a session of the
   runtime, mean pooling over the attention mask and L2 normalisation in numpy; texts are sorted
   by length before batching, as ``SentenceTransformer.encode`` does, so padding stays small.

``bench/embedding_backends.py`` measures each backend's speed and its cosine to the float32
embeddings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# The backends that run the ONNX export (OpenVINO reads the same file) instead of torch.
ONNX_BACKENDS: tuple[str, ...] = ("onnx", "onnx-int8", "openvino-int8")
# Activations per dynamic-quantisation group (OpenVINO's CPU plugin); see the module docstring.
# Measured: worst-text cosine 0.997 at 32, 0.995 at 64, 0.993 at 128, 0.985 at 384, for speed
# gains within the shared machine's noise, so the most exact setting.
OPENVINO_ACTIVATION_GROUP = 32
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OPSET = 17


class OnnxModelError(ValueError):
    """The model directory cannot be run by the ONNX backend (names the file and the reason)."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OnnxModelError(f"{path}: cannot read ({exc})") from exc


def check_model_dir(model_dir: Path) -> int:
    """Check that ``model_dir`` is Transformer -> mean Pooling (-> Normalize); return its max length."""
    modules = _read_json(model_dir / "modules.json")
    types = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if types[:2] != ["Transformer", "Pooling"] or any(t != "Normalize" for t in types[2:]):
        raise OnnxModelError(
            f"{model_dir / 'modules.json'}: the onnx backend runs Transformer + Pooling (+ Normalize) "
            f"models, this one is {types}"
        )
    pooling = _read_json(model_dir / str(modules[1]["path"]) / "config.json")
    others = [
        k
        for k, v in pooling.items()
        if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"
    ]
    if not pooling.get("pooling_mode_mean_tokens") or others:
        raise OnnxModelError(
            f"{model_dir}: the onnx backend supports mean pooling only, got {others or pooling}"
        )
    if not (model_dir / "tokenizer.json").exists():
        raise OnnxModelError(f"{model_dir}: no tokenizer.json (the onnx backend needs a fast tokenizer file)")
    config = _read_json(model_dir / "sentence_bert_config.json")
    return int(config.get("max_seq_length") or 512)


def _fingerprint(model_dir: Path) -> str:
    """Changes when the model's weights or config change, so a stale export is never reused."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    digest.update((model_dir / "config.json").read_bytes())
    return digest.hexdigest()[:16]


def export_dir(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / f"{model_dir.name}-{_fingerprint(model_dir)}"


def ensure_export(model_dir: Path, cache_dir: Path, backend: str) -> Path:
    """Path of the file ``backend`` runs for ``model_dir`` (ONNX, or OpenVINO IR for
    ``openvino-int8``), exporting it into ``cache_dir`` first if absent.

    Safe to race: each writer renames a private temporary file (or folder) into place, so
    readers only ever see complete files.
    """
    if backend not in ONNX_BACKENDS:
        raise ValueError(f"{backend!r} runs no export; exported backends: {', '.join(ONNX_BACKENDS)}")
    check_model_dir(model_dir)
    target = export_dir(model_dir, cache_dir)
    fp32 = target / "model.onnx"
    if not fp32.exists():
        target.mkdir(parents=True, exist_ok=True)
        _export_fp32(model_dir, fp32)
    if backend == "onnx":
        return fp32
    if backend == "onnx-int8":
        quantized = target / "model_int8.onnx"
        if not quantized.exists():
            _quantize(fp32, quantized)
        return quantized
    compressed = target / "openvino_int8"
    if not (compressed / "model.xml").exists():
        _compress_openvino(fp32, compressed)
    return compressed / "model.xml"


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(model_dir))
    base.eval()

    class _Encoder(torch.nn.Module):
        """Keyword call (transformers 5 changed BertModel.forward's positional order)."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    dummy = torch.ones(2, 8, dtype=torch.long)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            _Encoder(base),
            (dummy, torch.ones_like(dummy), torch.zeros_like(dummy)),
            str(tmp),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=_OPSET,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    os.replace(tmp, out)


def _quantize(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped,unused-ignore]

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    quantize_dynamic(
        str(fp32),
        str(tmp),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],  # the embedding Gather stays float: quantising it costs quality
    )
    os.replace(tmp, out)


def _compress_openvino(fp32: Path, out_dir: Path) -> None:
    """NNCF int8 weight compression of the ONNX export, saved as OpenVINO IR in ``out_dir``."""
    # NNCF sends usage telemetry unless it is told it runs in CI; the workbench never phones home.
    os.environ.setdefault("NNCF_CI", "1")
    import nncf
    import openvino as ov

    nncf.set_log_level(logging.WARNING)  # not its per-layer tables (its one progress bar still prints)
    model = nncf.compress_weights(ov.Core().read_model(str(fp32)), mode=nncf.CompressWeightsMode.INT8_ASYM)
    # The IR is two files (graph .xml, weights .bin): both go into a private folder that is
    # renamed into place whole.
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
    try:
        os.replace(tmp, out_dir)
    except OSError:  # another process put its (identical) folder there first
        shutil.rmtree(tmp, ignore_errors=True)
        if not (out_dir / "model.xml").exists():
            raise


Feeds = dict[str, NDArray[np.int64]]
Consume = Callable[[int, NDArray[np.float32]], None]
Runner = Callable[[Iterable[Feeds], Consume], None]
"""Runs the model on each batch of ``feeds`` and hands ``consume(batch number, hidden states)``
each batch's output, not necessarily in order; returns when every batch is consumed."""


def _onnxruntime_runner(path: Path, threads: int) -> Runner:
    import onnxruntime as ort  # type: ignore[import-untyped,unused-ignore]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # A busy-waiting thread pool burns the cores other processes need on a shared machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}

    def run(batches: Iterable[Feeds], consume: Consume) -> None:
        for number, feeds in enumerate(batches):
            consume(number, np.asarray(session.run(None, {k: v for k, v in feeds.items() if k in inputs})[0]))

    return run


def _openvino_runner(path: Path, threads: int, activation_group: int = OPENVINO_ACTIVATION_GROUP) -> Runner:
    """Batches run side by side, one per OpenVINO stream (one core each), while this thread
    tokenises the next: on a small, shared machine that keeps the cores busier than one batch
    at a time split across all of them (threads meeting after every layer)."""
    import openvino as ov

    compiled = ov.Core().compile_model(
        str(path),
        "CPU",
        {
            "PERFORMANCE_HINT": "THROUGHPUT",
            "INFERENCE_NUM_THREADS": threads,
            # float32 everywhere but the int8 products: a CPU with bf16 units would otherwise
            # switch to bf16 by itself, and embeddings would differ from machine to machine.
            "INFERENCE_PRECISION_HINT": "f32",
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": activation_group,
        },
    )
    queue = ov.AsyncInferQueue(compiled, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    inputs = {i.get_any_name() for i in compiled.inputs}
    # One encode at a time: the queue and its callback belong to the run in progress (a
    # process shares one encoder between its threads, see active_learning.featurizers).
    one_at_a_time = threading.Lock()

    def run(batches: Iterable[Feeds], consume: Consume) -> None:
        with one_at_a_time:
            _run(batches, consume)

    def _run(batches: Iterable[Feeds], consume: Consume) -> None:
        failures: list[BaseException] = []

        def done(request: Any, number: int) -> None:
            try:  # the request's output buffer is reused by its next batch: consume it now
                consume(number, request.get_output_tensor(0).data)
            except BaseException as exc:  # raised again in the caller's thread below
                failures.append(exc)

        queue.set_callback(done)
        for number, feeds in enumerate(batches):
            queue.start_async({k: v for k, v in feeds.items() if k in inputs}, number)
        queue.wait_all()
        if failures:
            raise failures[0]

    return run


class OnnxEncoder:
    """Encodes texts with an exported model (the file :func:`ensure_export` gives for
    ``backend``); loads the session and tokenizer once."""

    def __init__(
        self,
        model_dir: Path,
        path: Path,
        *,
        backend: str = "onnx",
        threads: int | None = None,
        activation_group: int = OPENVINO_ACTIVATION_GROUP,
    ) -> None:
        from tokenizers import Tokenizer

        max_length = check_model_dir(model_dir)
        self.dim = int(_read_json(model_dir / "config.json")["hidden_size"])
        self._tokenizer: Any = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)
        pad_id = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0)
        threads = threads or os.cpu_count() or 1
        if backend == "openvino-int8":
            self._run = _openvino_runner(path, threads, activation_group)
        else:
            self._run = _onnxruntime_runner(path, threads)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, *, normalize: bool = True
    ) -> NDArray[np.float32]:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        masks: dict[int, NDArray[np.int64]] = {}
        out = np.empty((len(texts), self.dim), dtype=np.float32)

        def feeds() -> Iterator[Feeds]:
            for number, positions in enumerate(batches):
                encodings = self._tokenizer.encode_batch([texts[i] for i in positions])
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = masks[number] = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                yield {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}

        def pool(number: int, hidden: NDArray[np.float32]) -> None:
            weights = masks.pop(number)[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if normalize:
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[batches[number]] = pooled  # each batch its own rows: safe from the runtime's threads

        self._run(feeds(), pool)
        return out
