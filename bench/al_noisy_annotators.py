"""Active learning with noisy annotators: relabeling vs labeling new items.

    .venv/bin/python bench/al_noisy_annotators.py [--quick] [--seeds 5]

Jigsaw binary ``toxic`` (cached MiniLM embeddings). A crowd of 10 simulated annotators each flips
the true label with probability ``--error`` (20 %). Every item may collect 1-3 labels. The budget
counts *annotations*, not items. The seed set gives 30 items 1-3 labels each. Training labels are
majority votes (ties left out until broken); the test split keeps the true labels.

Strategies (``k`` annotations per round):
  random          new items, one label each
  margin          uncertainty only: new items, one label each
  margin_x3       uncertainty, but every new item gets 3 labels (fixed redundancy)
  relabel_margin  conflicting items (labels disagree) get another label first, then margin on new
  activelab       ActiveLab (cleanlab): one scale for "label a new item" vs "relabel this one"
Writes var/bench/al_noisy_annotators.{png,json}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from typing import Any

import numpy as np
from al_common import OUT, jigsaw_binary
from al_label_efficiency import fixed_split

from active_learning import (
    LabeledSet,
    LogisticClassifier,
    Pool,
    binary_metrics,
    human_disagreement,
    majority_labels,
    run_round,
)
from active_learning.scores import margin_scores
from active_learning.selection import top_k

STRATEGIES = ["random", "margin", "margin_x3", "relabel_margin", "activelab"]
N_ANNOTATORS = 10
MAX_LABELS = 3
_STATE: dict[str, Any] = {}


def annotate(ann: np.ndarray, item: int, truth: int, error: float, rng: np.random.Generator) -> None:
    """One more label for ``item`` from an annotator who has not labeled it yet."""
    free = np.nonzero(np.isnan(ann[item]))[0]
    who = int(rng.choice(free))
    ann[item, who] = truth if rng.random() >= error else 1 - truth


def simulate(args: tuple[str, int, int, int, float]) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    strategy, seed, step, budget, error = args
    X, y, pool_idx, test_idx = _STATE["X"], _STATE["y"], _STATE["pool"], _STATE["test"]
    truth = y[pool_idx]
    n = len(pool_idx)
    ann = np.full((n, N_ANNOTATORS), np.nan)
    init_rng = np.random.default_rng(seed)
    noise_rng = np.random.default_rng([seed, 7])  # same annotator mistakes order across strategies
    spent = 0
    for item in init_rng.choice(n, size=30, replace=False):
        for _ in range(int(init_rng.integers(1, MAX_LABELS + 1))):
            annotate(ann, int(item), int(truth[item]), error, noise_rng)
            spent += 1
    rng = np.random.default_rng([seed, STRATEGIES.index(strategy)])
    curve = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        while True:
            counts = np.sum(~np.isnan(ann), axis=1)
            maj = majority_labels(ann, 2)
            train = maj >= 0
            model = LogisticClassifier().fit(X[pool_idx[train]], maj[train])
            P_test = model.predict_proba(X[test_idx])[:, 1]
            m = binary_metrics(y[test_idx], P_test)
            wrong = float(np.sum(maj[train] != truth[train]))
            curve.append(
                {
                    "annotations": float(spent),
                    "f1": m["f1"],
                    "pr_auc": m["pr_auc"],
                    "items": float(np.sum(counts > 0)),
                    "wrong_training_labels": wrong,
                }
            )
            if spent >= budget:
                break
            k = min(step, budget - spent)
            chosen = choose(strategy, ann, counts, X[pool_idx], model, k, rng)
            before = spent
            for item in chosen:
                if spent >= budget or np.sum(~np.isnan(ann[item])) >= MAX_LABELS:
                    continue
                annotate(ann, int(item), int(truth[item]), error, noise_rng)
                spent += 1
            if spent == before:
                break
    return {"strategy": strategy, "seed": seed, "curve": curve, "seconds": time.perf_counter() - t0}


def choose(
    strategy: str,
    ann: np.ndarray,
    counts: np.ndarray,
    Xp: np.ndarray,
    model: LogisticClassifier,
    k: int,
    rng: np.random.Generator,
) -> list[int]:
    """Items to annotate next; an item may repeat (margin_x3 asks for 3 labels)."""
    new = counts == 0
    if strategy == "activelab":
        # The pool is every item (labeled ones are relabel candidates); the round trains on the
        # majority labels and lets ActiveLab rank relabels against new items.
        maj = majority_labels(ann, 2)
        res = run_round(
            LabeledSet(Xp[maj >= 0], maj[maj >= 0]),
            Pool(Xp, annotations=ann, max_annotations=MAX_LABELS),
            "activelab",
            k,
            rng,
        )
        return [int(i) for i in res.positions]
    if strategy == "random":
        scores = np.where(new, rng.random(len(counts)), -np.inf)
        return [int(i) for i in top_k(scores, k, rng=rng)]
    margin = margin_scores(model.predict_proba(Xp))
    if strategy == "margin":
        return [int(i) for i in top_k(np.where(new, margin, -np.inf), k, rng=rng)]
    if strategy == "margin_x3":
        items = top_k(np.where(new, margin, -np.inf), max(1, k // MAX_LABELS), rng=rng)
        return [int(i) for i in np.repeat(items, MAX_LABELS)][:k]
    if strategy == "relabel_margin":
        conflict = (human_disagreement(ann, 2) > 0) & (counts < MAX_LABELS)
        scores = np.where(conflict, 2.0 + margin, np.where(new, margin, -np.inf))
        return [int(i) for i in top_k(scores, k, rng=rng)]
    raise ValueError(strategy)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--error", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = list(range(args.seeds if args.seeds else (2 if args.quick else 5)))
    step, budget = (40, 240) if args.quick else (40, 1000)
    t0 = time.perf_counter()
    ds = jigsaw_binary()
    pool, test = fixed_split(ds.y, 0.3)
    _STATE.update(X=ds.X, y=ds.y, pool=pool, test=test)
    jobs = [(s, seed, step, budget, args.error) for s in STRATEGIES for seed in seeds]
    jobs.sort(key=lambda j: j[0] != "activelab")
    with mp.get_context("fork").Pool(args.workers) as p:
        runs = p.map(simulate, jobs, chunksize=1)
    print(
        f"Jigsaw toxic, {len(pool)} pool / {len(test)} test (true labels), {N_ANNOTATORS} annotators erring "
        f"{args.error:.0%}, 1-{MAX_LABELS} labels per item, step {step}, budget {budget} annotations, "
        f"{len(seeds)} seeds"
    )
    marks = [b for b in (budget // 4, budget // 2, budget) if b >= 30]
    print(
        f"{'strategy':<16}"
        + "".join(f"{'F1@' + str(b):>14}" for b in marks)
        + f"{'PR-AUC@' + str(budget):>14}"
        f"{'items':>8}{'wrong labels':>14}{'s/run':>8}"
    )
    summary: dict[str, Any] = {}
    start = int(max(r["curve"][0]["annotations"] for r in runs))
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for s in STRATEGIES:
        rs = [r for r in runs if r["strategy"] == s]
        # Seed sets differ in size (1-3 labels each), so put every run on one annotation grid.
        ann_axis = np.arange(start, budget + 1, step, dtype=float)
        ann_axis[-1] = budget

        def on_grid(r: dict[str, Any], key: str, axis: np.ndarray) -> np.ndarray:
            xs = np.array([p["annotations"] for p in r["curve"]])
            return np.interp(axis, xs, np.array([p[key] for p in r["curve"]]))

        f1 = np.array([on_grid(r, "f1", ann_axis) for r in rs])
        auc = np.array([on_grid(r, "pr_auc", ann_axis) for r in rs])
        items = np.mean([r["curve"][-1]["items"] for r in rs])
        wrong = np.mean([r["curve"][-1]["wrong_training_labels"] for r in rs])
        at = [f1[:, int(np.searchsorted(ann_axis, b))].mean() for b in marks]
        curves[s] = (ann_axis, f1.mean(0), f1.std(0))
        print(
            f"{s:<16}"
            + "".join(f"{v:>14.3f}" for v in at)
            + f"{auc[:, -1].mean():>10.3f}±{auc[:, -1].std():.2f}"
            f"{items:>8.0f}{wrong:>14.0f}{np.mean([r['seconds'] for r in rs]):>8.1f}"
        )
        summary[s] = {
            "f1_at": dict(zip(map(str, marks), map(float, at), strict=True)),
            "pr_auc": float(auc[:, -1].mean()),
            "items_labeled": float(items),
            "wrong_training_labels": float(wrong),
        }
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s, (x, m, sd) in curves.items():
        ax.plot(x, m, "k--" if s == "random" else "-", label=s)
        ax.fill_between(x, m - sd, m + sd, alpha=0.12)
    ax.set_xlabel("annotations spent")
    ax.set_ylabel("F1 on true test labels")
    ax.set_title(f"Jigsaw toxic, annotators err {args.error:.0%}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    suffix = "_quick" if args.quick else ""
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / f"al_noisy_annotators{suffix}.png", dpi=110)
    (OUT / f"al_noisy_annotators{suffix}.json").write_text(
        json.dumps({"summary": summary, "runs": runs}, indent=1)
    )
    print(f"wrote {OUT / f'al_noisy_annotators{suffix}.png'}; total {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
