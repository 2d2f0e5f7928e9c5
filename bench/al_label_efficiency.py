"""Label efficiency of every active-learning strategy vs random, simulated offline.

    .venv/bin/python bench/al_label_efficiency.py [--quick] [--seeds 5] [--only binary,multilabel,preference]

Jigsaw binary ``toxic`` (binary + six-label samples, original text), Jigsaw six labels
(normalized-text file) and HH-RLHF preference pairs, embedded once with all-MiniLM-L6-v2 and
cached under var/cache. Every strategy starts from the same keyword/random seed set per seed,
labels ``step`` items per round up to ``budget`` and is scored on the same fixed test split.
Prints tables and writes var/bench/al_label_efficiency.{png,json}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from al_common import BACKEND, OUT, Dataset, hh_rlhf, jigsaw_binary, jigsaw_multilabel

from active_learning import LabeledSet, Pool, RoundOptions, ValidationSlice, run_round
from active_learning.classifiers import Task


@dataclass(frozen=True)
class Setup:
    task: Task
    strategies: list[str]
    init: int
    step: int
    budget: int
    metric: str  # headline metric key in RoundResult.metrics
    cold_start: str


# Budgets and steps sized so a full run (5 seeds) stays around 15 minutes on 2 cores.
FULL = {
    "binary": Setup(
        "binary",
        [
            "random",
            "least_confidence",
            "margin",
            "entropy",
            "vote_entropy",
            "kl_max",
            "margin+kmeans",
            "margin+kcenter",
            "coreset",
        ],
        20,
        40,
        800,
        "f1",
        "seed_keyword",
    ),
    "multilabel": Setup(
        "multilabel",
        ["random", "margin", "entropy", "margin+kmeans"],
        50,
        100,
        1050,
        "macro_f1",
        "seed_keyword",
    ),
    "preference": Setup(
        "preference", ["random", "margin", "vote_entropy", "margin+kmeans"], 20, 60, 620, "accuracy", "random"
    ),
}
QUICK = {
    "binary": Setup(
        "binary", ["random", "margin", "vote_entropy", "margin+kmeans"], 20, 40, 200, "f1", "seed_keyword"
    ),
    "multilabel": Setup("multilabel", ["random", "margin"], 50, 50, 200, "macro_f1", "seed_keyword"),
    "preference": Setup("preference", ["random", "margin"], 20, 40, 140, "accuracy", "random"),
}

_DATA: dict[str, Dataset] = {}
_SPLITS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def fixed_split(y: np.ndarray, test_fraction: float, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """Same test split for every strategy and seed; stratified on the first label column."""
    rng = np.random.default_rng(seed)
    strat = y if y.ndim == 1 else y[:, 0]
    strat = np.round(strat * 2).astype(int)
    test = np.concatenate(
        [
            rng.permutation(np.nonzero(strat == c)[0])[: int(round(test_fraction * np.sum(strat == c)))]
            for c in np.unique(strat)
        ]
    )
    pool = np.setdiff1d(np.arange(len(y)), test)
    return pool, np.sort(test)


def simulate(args: tuple[str, str, int, Setup]) -> dict[str, Any]:
    """One learning curve: (dataset, strategy, seed) -> labels vs metrics."""
    from threadpoolctl import threadpool_limits

    name, strategy, seed, setup = args
    ds = _DATA[name]
    pool_idx, test_idx = _SPLITS[name]
    X, y = ds.X, ds.y
    texts = [ds.texts[i] for i in pool_idx]
    curve: list[dict[str, float]] = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        # Same cold-start set for every strategy of this seed.
        init = run_round(
            LabeledSet(X[:0], y[:0]),
            Pool(X[pool_idx], texts=texts),
            setup.cold_start,
            setup.init,
            np.random.default_rng(seed),
            options=RoundOptions(task=setup.task),
        )
        labeled = np.zeros(len(pool_idx), dtype=bool)
        labeled[init.positions] = True
        rng = np.random.default_rng(
            [seed, int.from_bytes(hashlib.sha256(strategy.encode()).digest()[:4], "big")]
        )
        while True:
            n = int(labeled.sum())
            unl = np.nonzero(~labeled)[0]
            lab = pool_idx[labeled]
            k = min(setup.step, setup.budget - n) if n < setup.budget else 1
            res = run_round(
                LabeledSet(X[lab], y[lab]),
                Pool(X[pool_idx[unl]]),
                strategy if n < setup.budget else "random",
                k,
                rng,
                validation=ValidationSlice(X[test_idx], y[test_idx]),
                options=RoundOptions(task=setup.task, label_names=ds.label_names, committee_size=5),
            )
            point = {"labels": float(n), **{k_: float(v) for k_, v in res.metrics.items()}}
            if setup.task == "multilabel":
                for j, lname in enumerate(ds.label_names):
                    point[f"found/{lname}"] = float(y[lab, j].sum())
            elif setup.task == "binary":
                point["found/positives"] = float(y[lab].sum())
            curve.append(point)
            if n >= setup.budget:
                break
            labeled[unl[res.positions]] = True
    return {
        "dataset": name,
        "strategy": strategy,
        "seed": seed,
        "curve": curve,
        "seconds": time.perf_counter() - t0,
    }


def mean_curve(runs: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = np.array([p["labels"] for p in runs[0]["curve"]])
    vals = np.array([[p.get(key, np.nan) for p in r["curve"]] for r in runs])
    return labels, np.nanmean(vals, axis=0), np.nanstd(vals, axis=0)


def labels_to_reach(labels: np.ndarray, curve: np.ndarray, target: float) -> float:
    hit = np.nonzero(curve >= target - 1e-12)[0]
    return float(labels[hit[0]]) if hit.size else float("nan")


def report(name: str, setup: Setup, runs: list[dict[str, Any]]) -> dict[str, Any]:
    by = {s: [r for r in runs if r["strategy"] == s] for s in setup.strategies}
    key = setup.metric
    auc_key = {"binary": "pr_auc", "multilabel": "macro_pr_auc", "preference": "log_loss"}[setup.task]
    lab, rand_mean, _ = mean_curve(by["random"], key)
    target = float(rand_mean[-1])
    print(
        f"\n== {name}: {len(_SPLITS[name][0])} pool / {len(_SPLITS[name][1])} test, init {setup.init} "
        f"({setup.cold_start}), step {setup.step}, budget {setup.budget}, {len(by['random'])} seeds =="
    )
    print(f"target = random's mean {key} at {setup.budget} labels = {target:.3f}")
    hdr = (
        f"{'strategy':<18}{key + '@budget':>16}{auc_key + '@budget':>20}"
        f"{'labels to target':>18}{'vs budget':>10}{'s/run':>8}"
    )
    print(hdr)
    summary: dict[str, Any] = {"target": target, "strategies": {}}
    for s, rs in by.items():
        _, m, sd = mean_curve(rs, key)
        _, a, asd = mean_curve(rs, auc_key)
        need = labels_to_reach(lab, m, target)
        frac = need / setup.budget if np.isfinite(need) else float("nan")
        secs = float(np.mean([r["seconds"] for r in rs]))
        print(
            f"{s:<18}{m[-1]:>10.3f}±{sd[-1]:.3f}{a[-1]:>14.3f}±{asd[-1]:.3f}{need:>18.0f}{frac:>10.2f}{secs:>8.1f}"
        )
        summary["strategies"][s] = {
            "final": float(m[-1]),
            "final_sd": float(sd[-1]),
            "final_auc": float(a[-1]),
            "labels_to_target": need,
            "fraction_of_budget": frac,
            "seconds_per_run": secs,
        }
    if setup.task == "multilabel":
        print(
            "per-label F1 / PR-AUC at the full budget, "
            "and positives among the labeled items (mean over seeds):"
        )
        names = _DATA[name].label_names
        print(f"{'strategy':<18}" + "".join(f"{n:>22}" for n in names))
        for s, rs in by.items():
            cells = []
            for n_ in names:
                f = mean_curve(rs, f"f1/{n_}")[1][-1]
                a_ = mean_curve(rs, f"pr_auc/{n_}")[1][-1]
                found = mean_curve(rs, f"found/{n_}")[1][-1]
                cells.append(f"{f:.2f}/{a_:.2f} ({found:.0f})")
            print(f"{s:<18}" + "".join(f"{c:>22}" for c in cells))
            summary["strategies"][s]["per_label"] = {
                n_: {
                    "f1": float(mean_curve(rs, f"f1/{n_}")[1][-1]),
                    "pr_auc": float(mean_curve(rs, f"pr_auc/{n_}")[1][-1]),
                    "positives_labeled": float(mean_curve(rs, f"found/{n_}")[1][-1]),
                }
                for n_ in names
            }
    if setup.task == "binary":
        print(
            "toxic items among the labeled set at the full budget (mean): "
            + ", ".join(f"{s} {mean_curve(rs, 'found/positives')[1][-1]:.0f}" for s, rs in by.items())
        )
    return summary


def cold_start_table(name: str, seeds: list[int], k: int = 20) -> None:
    ds = _DATA[name]
    pool_idx, _ = _SPLITS[name]
    y = ds.y if ds.y.ndim == 1 else ds.y.max(axis=1)
    texts = [ds.texts[i] for i in pool_idx]
    print(
        f"\ncold start on {name}: positives among the first {k} items "
        f"(mean over {len(seeds)} seeds; base rate "
        f"{y[pool_idx].mean():.3f})"
    )
    for s in ("random", "seed_stratified", "seed_keyword"):
        found = [
            y[pool_idx][
                run_round(
                    LabeledSet(ds.X[:0], ds.y[:0]),
                    Pool(ds.X[pool_idx], texts=texts),
                    s,
                    k,
                    np.random.default_rng(seed),
                    options=RoundOptions(task="binary" if ds.y.ndim == 1 else "multilabel"),
                ).positions
            ].sum()
            for seed in seeds
        ]
        print(f"  {s:<16}{np.mean(found):6.1f}")


def plot(results: dict[str, list[dict[str, Any]]], setups: dict[str, Setup], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(6 * len(results), 8), squeeze=False)
    for col, (name, runs) in enumerate(results.items()):
        setup = setups[name]
        auc_key = {"binary": "pr_auc", "multilabel": "macro_pr_auc", "preference": "log_loss"}[setup.task]
        for row, key in enumerate([setup.metric, auc_key]):
            ax = axes[row][col]
            for s in setup.strategies:
                rs = [r for r in runs if r["strategy"] == s]
                lab, m, sd = mean_curve(rs, key)
                style = "k--" if s == "random" else "-"
                ax.plot(lab, m, style, label=s, lw=1.5)
                ax.fill_between(lab, m - sd, m + sd, alpha=0.12)
            ax.set_title(f"{name}: {key}")
            ax.set_xlabel("labels")
            ax.grid(alpha=0.3)
            if row == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def results_stem(backend: str, *, quick: bool) -> Path:
    """Where a run's plot and JSON go (without the extension): each embedding backend's results
    are kept apart, so two backends can be compared (bench/al_backends_compare.py)."""
    suffix = ("_quick" if quick else "") + ("" if backend == "torch" else f"_{backend}")
    return OUT / f"al_label_efficiency{suffix}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: few strategies, small budget, 2 seeds"
    )
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--only", default="binary,multilabel,preference")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setups = QUICK if args.quick else FULL
    seeds = list(range(args.seeds if args.seeds else (2 if args.quick else 5)))
    names = [n for n in args.only.split(",") if n]
    t0 = time.perf_counter()
    loaders = {
        "binary": (jigsaw_binary, 0.3),
        "multilabel": (jigsaw_multilabel, 0.3),
        "preference": (hh_rlhf, 1 / 3),
    }
    for n in names:
        loader, frac = loaders[n]
        _DATA[n] = loader()
        _SPLITS[n] = fixed_split(_DATA[n].y, frac)
    print(f"data + embeddings ready in {time.perf_counter() - t0:.1f}s")
    if "binary" in names:
        cold_start_table("binary", seeds)
    if "multilabel" in names:
        cold_start_table("multilabel", seeds)
    jobs = [(n, s, seed, setups[n]) for n in names for s in setups[n].strategies for seed in seeds]
    # Longest jobs first so the two workers finish together.
    jobs.sort(key=lambda j: (j[0] != "multilabel", "vote" not in j[1] and "kl" not in j[1]))
    ctx = mp.get_context("fork")
    runs = []
    with ctx.Pool(args.workers) as pool:
        for i, run in enumerate(pool.imap_unordered(simulate, jobs, chunksize=1), 1):
            runs.append(run)
            print(
                f"  [{i}/{len(jobs)}] {run['dataset']} {run['strategy']} seed {run['seed']}: "
                f"{run['seconds']:.0f}s "
                f"(elapsed {time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
    results = {n: [r for r in runs if r["dataset"] == n] for n in names}
    summary = {n: report(n, setups[n], results[n]) for n in names}
    OUT.mkdir(parents=True, exist_ok=True)
    stem = results_stem(BACKEND, quick=args.quick)
    plot(results, setups, str(stem.with_suffix(".png")))
    stem.with_suffix(".json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))
    print(f"\nwrote {stem.with_suffix('.png')} and .json; total {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
