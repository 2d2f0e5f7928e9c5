from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import active_learning
from active_learning import (
    HashedFeaturizer,
    InvalidInputError,
    LabeledSet,
    NotEnoughLabelsError,
    Pool,
    RoundOptions,
    ValidationSlice,
    run_round,
)

from .pools import blobs, texts


def test_a_cold_start_round_finds_keyword_positives_without_a_model() -> None:
    txt, y = texts(300, seed=1)
    X = HashedFeaturizer(n_features=256).encode(txt)
    result = run_round(
        LabeledSet(np.empty((0, 256)), np.empty(0)),
        Pool(X, texts=txt),
        "seed_keyword",
        20,
        np.random.default_rng(0),
    )
    assert result.pool_proba is None and result.model is None
    assert y[result.positions].mean() >= 0.4  # base rate is ~0.2
    assert set(y[result.positions]) == {0, 1}


def test_model_strategies_refuse_an_empty_labeled_set_and_suggest_cold_starts() -> None:
    X, _ = blobs(50)
    with pytest.raises(NotEnoughLabelsError, match="seed_keyword, seed_stratified"):
        run_round(LabeledSet(np.empty((0, 8)), np.empty(0)), Pool(X), "margin", 5, np.random.default_rng(0))


def test_a_binary_round_scores_every_item_and_reports_validation_metrics() -> None:
    X, y = blobs(600, seed=2)
    lab, pool, val = slice(0, 60), slice(60, 400), slice(400, 600)
    result = run_round(
        LabeledSet(X[lab], y[lab]),
        Pool(X[pool]),
        "margin",
        25,
        np.random.default_rng(0),
        validation=ValidationSlice(X[val], y[val]),
        options=RoundOptions(cost_fp=1.0, cost_fn=5.0),
    )
    assert result.positions.shape == (25,) and result.scores.shape == (340,)
    assert result.pool_proba is not None and result.pool_proba.shape == (340, 2)
    # margin picks the items closest to the decision boundary
    p = result.pool_proba[result.positions, 1]
    assert np.abs(p - 0.5).max() <= np.sort(np.abs(result.pool_proba[:, 1] - 0.5))[24] + 1e-12
    assert {"f1", "pr_auc", "precision", "recall", "f1_at_cost_threshold"} <= set(result.metrics)
    assert result.threshold is not None and result.threshold.cost_fn == 5.0
    assert {"fit", "predict", "score", "select", "metrics", "total"} <= set(result.timings)


@pytest.mark.parametrize("strategy", ["vote_entropy", "kl_max", "entropy+kmeans", "coreset"])
def test_committee_and_diversity_rounds_run_end_to_end(strategy: str) -> None:
    X, y = blobs(300, seed=3)
    result = run_round(
        LabeledSet(X[:40], y[:40]),
        Pool(X[40:]),
        strategy,
        10,
        np.random.default_rng(1),
        options=RoundOptions(committee_size=4),
    )
    assert len(set(result.positions.tolist())) == 10
    if "committee" not in result.timings:
        assert strategy in ("entropy+kmeans", "coreset")


def test_a_multilabel_round_reports_per_label_metrics_and_prior_only_labels() -> None:
    X, y = blobs(400, seed=4)
    rare = np.zeros(400, dtype=int)
    rare[[5, 300]] = 1
    Y = np.column_stack([y, rare])
    result = run_round(
        LabeledSet(X[:100], Y[:100]),
        Pool(X[100:300]),
        "entropy",
        10,
        np.random.default_rng(0),
        validation=ValidationSlice(X[300:], Y[300:]),
        options=RoundOptions(task="multilabel", label_names=["toxic", "threat"], multilabel_aggregate="mean"),
    )
    assert result.pool_proba is not None and result.pool_proba.shape == (200, 2)
    assert result.prior_only_labels == [1]
    assert {"f1/toxic", "pr_auc/toxic", "f1/threat", "macro_f1"} <= set(result.metrics)


def test_a_preference_round_uses_pairs_and_reports_accuracy() -> None:
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    y = ((A - B)[:, 0] > 0).astype(float)
    y[:5] = 0.5
    X = np.stack([A, B], axis=1)
    result = run_round(
        LabeledSet(X[:80], y[:80]),
        Pool(X[80:200]),
        "margin+kcenter",
        8,
        np.random.default_rng(0),
        validation=ValidationSlice(X[200:], y[200:]),
        options=RoundOptions(task="preference"),
    )
    assert result.positions.shape == (8,)
    assert result.metrics["accuracy"] > 0.8


def test_an_activelab_round_can_choose_relabeling() -> None:
    X, y = blobs(200, seed=6)
    annotations = np.full((150, 3), np.nan)
    annotations[:50, 0] = y[50:100]
    annotations[:10, 1] = 1 - y[50:60]  # ten conflicting items
    result = run_round(
        LabeledSet(X[:50], y[:50]),
        Pool(X[50:], annotations=annotations, max_annotations=3),
        "activelab",
        10,
        np.random.default_rng(0),
    )
    conflicting, agreed = result.scores[:10], result.scores[10:50]
    assert conflicting.mean() > agreed.mean()
    assert np.isin(result.positions, np.arange(10)).sum() >= 1


def test_run_round_names_mismatched_shapes() -> None:
    X, y = blobs(50)
    with pytest.raises(InvalidInputError, match=r"features_labeled \(10, 8\) and labels \(9,\)"):
        run_round(LabeledSet(X[:10], y[:9]), Pool(X[10:]), "random", 3, np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match=r"differ in feature shape"):
        run_round(LabeledSet(X[:10, :4], y[:10]), Pool(X[10:]), "random", 3, np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="unknown task"):
        RoundOptions(task="ranking")  # type: ignore[arg-type]


FORBIDDEN = {
    "django",
    "rest_framework",
    "celery",
    "label_studio_sdk",
    "workbench",
    "exports",
    "label_quality",
}
LAZY_ONLY = {"torch", "sentence_transformers", "modAL", "cleanlab"}


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(top-level package, imported at module level?) for every import in a module."""
    found: list[tuple[str, bool]] = []
    top_level = {id(node) for node in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.extend((n.split(".")[0], id(node) in top_level) for n in names)
    return found


def test_the_library_never_imports_the_web_stack_and_loads_heavy_deps_lazily() -> None:
    package = Path(active_learning.__file__).parent
    for path in sorted(package.glob("*.py")):
        for name, module_level in _imports(ast.parse(path.read_text())):
            assert name not in FORBIDDEN, f"{path.name} imports {name}"
            if name in LAZY_ONLY:
                assert not module_level, f"{path.name} imports {name} at module level (import it lazily)"
            if name == "modAL":
                assert path.name == "modal_adapter.py", "modAL must stay behind modal_adapter.py"
