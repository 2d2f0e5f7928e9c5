"""Model readiness: the gate keeps active learning's label savings on toxicity and says "no
signal" on HH-RLHF preferences.

    .venv/bin/python bench/readiness.py [--quick] [--seeds 5] [--featurizer all-MiniLM-L6-v2|hashed]
        [--only binary,preference]

Jigsaw binary ``toxic`` (as ``bench/al_label_efficiency.py``: same data, fixed test split, seeds,
keyword cold start, step and budget): random, margin as today (no gate), margin gated on the test
split (the round's validation slice), margin gated out of fold (a project without gold labels),
and margin gated with the workbench's default 5% audit slice, whose live savings estimate is
printed next to what the run measured. Every variant of a seed starts from the same labeled set
and draws the same random numbers. HH-RLHF pairs: margin gated on the test split; per round, did
the model show a signal, and did the round fall back to the model-free strategy?

Prints tables (with the load average); writes var/bench/readiness{_quick}.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from al_common import OUT, Dataset, hh_rlhf, jigsaw_binary
from al_label_efficiency import fixed_split, labels_to_reach

from active_learning import LabeledSet, Pool, RoundOptions, ValidationSlice, run_round
from active_learning.audit import savings_estimate
from active_learning.metrics import binary_metrics, preference_metrics


@dataclass(frozen=True)
class Variant:
    name: str
    strategy: str
    fallback: str | None  # None: no gate
    evidence: str  # "validation" (the test split) or "out_of_fold" (no validation slice)
    audit_share: float = 0.0


BINARY = [
    Variant("random", "random", None, "validation"),
    Variant("margin (no gate, today)", "margin", None, "validation"),
    Variant("margin gated (validation)", "margin", "random", "validation"),
    Variant("margin gated (out of fold)", "margin", "random", "out_of_fold"),
    Variant("margin gated + 5% audit", "margin", "random", "validation", 0.05),
]
PREFERENCE = [
    Variant("margin gated (validation)", "margin", "random", "validation"),
    Variant("margin gated (out of fold)", "margin", "random", "out_of_fold"),
]
# (init, step, budget) as bench/al_label_efficiency.py's FULL / QUICK setups.
SIZES = {
    "binary": {False: (20, 40, 800), True: (20, 40, 200)},
    "preference": {False: (20, 60, 620), True: (20, 40, 140)},
}
COLD_START = {"binary": "seed_keyword", "preference": "random"}

_DATA: dict[str, Dataset] = {}
_SPLITS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def simulate(args: tuple[str, Variant, int, bool]) -> dict[str, Any]:
    """One learning curve of one variant and seed: per round, labels, the test metric, the
    gate's verdict, the strategy used, and the audit / strategy picks' positives."""
    from threadpoolctl import threadpool_limits

    name, variant, seed, quick = args
    ds = _DATA[name]
    task = "binary" if name == "binary" else "preference"
    init_k, step, budget = SIZES[name][quick]
    pool_idx, test_idx = _SPLITS[name]
    X, y = ds.X, ds.y
    rounds: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        init = run_round(
            LabeledSet(X[:0], y[:0]),
            Pool(X[pool_idx], texts=[ds.texts[i] for i in pool_idx]),
            COLD_START[name],
            init_k,
            np.random.default_rng(seed),
            options=RoundOptions(task=task),
        )
        labeled = np.zeros(len(pool_idx), dtype=bool)
        labeled[init.positions] = True
        role = np.zeros(len(pool_idx), dtype=np.int8)  # 0 unlabeled/init, 1 strategy, 2 audit
        # The strategy's own stream, as al_label_efficiency seeds it (the gate does not touch it).
        rng = np.random.default_rng(
            [seed, int.from_bytes(hashlib.sha256(variant.strategy.encode()).digest()[:4], "big")]
        )
        while True:
            n = int(labeled.sum())
            if n >= budget:
                break
            unl = np.nonzero(~labeled)[0]
            lab = pool_idx[labeled]
            res = run_round(
                LabeledSet(X[lab], y[lab]),
                Pool(X[pool_idx[unl]]),
                variant.strategy,
                min(step, budget - n),
                rng,
                validation=ValidationSlice(X[test_idx], y[test_idx])
                if variant.evidence == "validation"
                else None,
                options=RoundOptions(task=task, fallback=variant.fallback, audit_share=variant.audit_share),
            )
            assert res.model is not None
            p_test = res.model.predict_proba(X[test_idx])[:, 1]
            metrics = (
                binary_metrics(y[test_idx], p_test)
                if task == "binary"
                else preference_metrics(y[test_idx], p_test)
            )
            r = res.readiness
            rounds.append(
                {
                    "labels": n,
                    "metric": metrics["f1" if task == "binary" else "accuracy"],
                    "signal": None if r is None else r.signal,
                    "gain_low": None if r is None else r.gain_low,
                    "gain_high": None if r is None else r.gain_high,
                    "used": res.strategy,
                }
            )
            picked = unl[res.positions]
            labeled[picked] = True
            audit = res.audit if res.audit is not None else np.zeros(picked.shape[0], dtype=bool)
            role[picked] = np.where(audit, 2, 1)
        final_model = res.model.fit(X[pool_idx[labeled]], y[pool_idx[labeled]])
        p_test = final_model.predict_proba(X[test_idx])[:, 1]
        final = (
            binary_metrics(y[test_idx], p_test)
            if task == "binary"
            else preference_metrics(y[test_idx], p_test)
        )
        rounds.append(
            {"labels": int(labeled.sum()), "metric": final["f1" if task == "binary" else "accuracy"]}
        )
    positives = y[pool_idx] == 1
    return {
        "dataset": name,
        "variant": variant.name,
        "seed": seed,
        "rounds": rounds,
        "found": int(positives[labeled].sum()),
        "strategy_labeled": int((role == 1).sum()),
        "strategy_useful": int((positives & (role == 1)).sum()),
        "audit_labeled": int((role == 2).sum()),
        "audit_useful": int((positives & (role == 2)).sum()),
        "seconds": time.perf_counter() - t0,
    }


def _curve(runs: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.array([p["labels"] for p in runs[0]["rounds"]], dtype=np.float64)
    values = np.array([[p["metric"] for p in r["rounds"]] for r in runs])
    return labels, values.mean(axis=0)


def report_binary(runs: list[dict[str, Any]], budget: int, load: str) -> dict[str, Any]:
    by = {v.name: [r for r in runs if r["variant"] == v.name] for v in BINARY}
    labels, random_curve = _curve(by["random"])
    target = float(random_curve[-1])
    seeds = len(by["random"])
    print(
        f"\n== Jigsaw toxic: {seeds} seeds, budget {budget}; "
        f"target = random's F1 at {budget} = {target:.3f} ({load}) =="
    )
    print(
        f"{'variant':<30}{'F1@budget':>10}{'labels to target':>18}{'rounds fell back':>18}{'toxic found':>13}"
    )
    out: dict[str, Any] = {"target": target, "variants": {}}
    for name, rs in by.items():
        _, curve = _curve(rs)
        need = labels_to_reach(labels, curve, target)
        gated = [p for r in rs for p in r["rounds"][:-1] if p.get("signal") is not None]
        fell = sum(p["used"] != "margin" for p in gated) if name != "random" else 0
        fell_text = f"{fell}/{len(gated)}" if gated else "–"
        found = float(np.mean([r["found"] for r in rs]))
        print(f"{name:<30}{curve[-1]:>10.3f}{need:>18.0f}{fell_text:>18}{found:>13.1f}")
        out["variants"][name] = {
            "final_f1": float(curve[-1]),
            "labels_to_target": need,
            "rounds_fell_back": fell_text,
            "toxic_found": found,
        }
    first_fallbacks = [
        [p["labels"] for p in r["rounds"][:-1] if p.get("used") not in (None, "margin")]
        for r in by["margin gated (out of fold)"]
    ]
    print("out-of-fold gate: labels at the rounds that fell back, per seed:", first_fallbacks)
    audit_runs = by["margin gated + 5% audit"]
    totals = {
        k: sum(r[k] for r in audit_runs)
        for k in ("strategy_useful", "strategy_labeled", "audit_useful", "audit_labeled")
    }
    live = savings_estimate(**totals, useful="toxic labels")
    margin_found = out["variants"]["margin (no gate, today)"]["toxic_found"]
    random_found = out["variants"]["random"]["toxic_found"]
    print(
        f"live estimate from the audit slice (all {seeds} seeds pooled): {live.message}\n"
        f"measured in this run: margin found {margin_found:.1f} toxic in {budget} labels, random "
        f"{random_found:.1f}: ratio {margin_found / random_found:.2f}"
    )
    per_seed = [
        savings_estimate(
            strategy_useful=r["strategy_useful"],
            strategy_labeled=r["strategy_labeled"],
            audit_useful=r["audit_useful"],
            audit_labeled=r["audit_labeled"],
            useful="toxic labels",
        )
        for r in audit_runs
    ]
    print(
        "per seed (one project's view):",
        [
            p.message if not p.ready else f"ratio {p.ratio:.2f} [{p.ratio_low:.2f}, {p.ratio_high:.2f}]"
            for p in per_seed
        ],
    )
    out["live_estimate"] = live.as_dict()
    out["measured_found_ratio"] = margin_found / random_found
    return out


def report_preference(runs: list[dict[str, Any]], load: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"\n== HH-RLHF preference pairs ({load}) ==")
    print(
        f"{'variant':<30}{'rounds':>8}{'no signal':>11}{'fell back':>11}{'accuracy (mean)':>17}"
        f"{'gain interval (median)':>26}"
    )
    for v in PREFERENCE:
        rs = [r for r in runs if r["variant"] == v.name]
        points = [p for r in rs for p in r["rounds"][:-1]]
        none = sum(not p["signal"] for p in points)
        fell = sum(p["used"] != "margin" for p in points)
        acc = float(np.mean([p["metric"] for p in points]))
        lows = [p["gain_low"] for p in points if p["gain_low"] is not None]
        highs = [p["gain_high"] for p in points if p["gain_high"] is not None]
        interval = f"{np.median(lows):+.3f} to {np.median(highs):+.3f}" if lows else "–"
        print(f"{v.name:<30}{len(points):>8}{none:>11}{fell:>11}{acc:>17.3f}{interval:>26}")
        out[v.name] = {"rounds": len(points), "no_signal": none, "fell_back": fell, "accuracy": acc}
    return out


def false_signal_rates(draws: int) -> dict[str, float]:
    """How often the gate sees a signal in scores that are unrelated to the labels (its nominal
    rate is 2.5%: the lower end of a two-sided 95% interval above 0)."""
    from active_learning.readiness import compare

    out: dict[str, float] = {}
    print(f"\n== false signals: scores unrelated to the labels, {draws} draws each ==")
    for task, n, prevalence in (
        ("binary", 50, 0.1),
        ("binary", 200, 0.1),
        ("binary", 200, 0.3),
        ("binary", 1000, 0.05),
        ("preference", 100, 0.5),
        ("preference", 1000, 0.5),
    ):
        rng = np.random.default_rng([n, int(prevalence * 100)])
        hits = 0
        for _ in range(draws):
            y = (rng.random(n) < prevalence).astype(np.float64)
            hits += compare(task, y, rng.random(n), evidence="validation").signal  # type: ignore[arg-type]
        key = f"{task} n={n}" + (f" positives {prevalence:.0%}" if task == "binary" else "")
        out[key] = hits / draws
        print(f"  {key:<32} {hits}/{draws} = {hits / draws:.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small budgets, 2 seeds")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument(
        "--featurizer", default="all-MiniLM-L6-v2", help="all-MiniLM-L6-v2 (cached under var/cache) or hashed"
    )
    parser.add_argument("--preference-featurizer", default=None, help="default: --featurizer")
    parser.add_argument("--only", default="binary,preference")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=None, help="false-signal draws (default 200, quick 50)")
    args = parser.parse_args()
    seeds = list(range(args.seeds if args.seeds else (2 if args.quick else 5)))
    names = [n for n in args.only.split(",") if n]
    t0 = time.perf_counter()
    featurizers = {"binary": args.featurizer, "preference": args.preference_featurizer or args.featurizer}
    if "binary" in names:
        _DATA["binary"] = jigsaw_binary(featurizers["binary"])
        _SPLITS["binary"] = fixed_split(_DATA["binary"].y, 0.3)
    if "preference" in names:
        _DATA["preference"] = hh_rlhf(featurizers["preference"])
        _SPLITS["preference"] = fixed_split(_DATA["preference"].y, 1 / 3)
    print(
        f"features ready in {time.perf_counter() - t0:.1f}s: "
        + ", ".join(f"{n} {featurizers[n]}" for n in names)
    )
    variants = {"binary": BINARY, "preference": PREFERENCE}
    jobs = [(n, v, s, args.quick) for n in names for v in variants[n] for s in seeds]
    runs = []
    with mp.get_context("fork").Pool(args.workers) as pool:
        for i, run in enumerate(pool.imap_unordered(simulate, jobs, chunksize=1), 1):
            runs.append(run)
            print(
                f"  [{i}/{len(jobs)}] {run['dataset']} {run['variant']} seed {run['seed']}: "
                f"{run['seconds']:.0f}s",
                flush=True,
            )
    load = "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    summary: dict[str, Any] = {"featurizers": featurizers, "seeds": len(seeds), "load": load}
    if "binary" in names:
        summary["binary"] = report_binary(
            [r for r in runs if r["dataset"] == "binary"], SIZES["binary"][args.quick][2], load
        )
    if "preference" in names:
        summary["preference"] = report_preference([r for r in runs if r["dataset"] == "preference"], load)
    summary["false_signal"] = false_signal_rates(args.draws or (50 if args.quick else 200))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"readiness{'_quick' if args.quick else ''}.json"
    path.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))
    print(f"\nwrote {path}; total {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
