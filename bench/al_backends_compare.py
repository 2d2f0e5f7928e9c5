"""Label efficiency with two embedding backends, seed by seed: is it unchanged?

    AL_BENCH_BACKEND=torch .venv/bin/python bench/al_label_efficiency.py
    AL_BENCH_BACKEND=openvino-int8 .venv/bin/python bench/al_label_efficiency.py
    .venv/bin/python bench/al_backends_compare.py [--other openvino-int8] [--quick]

Reads both runs' ``var/bench/al_label_efficiency*.json``. Every (dataset, strategy, seed) starts
from the same cold-start rule and draws the same random numbers in both runs, so the runs pair up
seed by seed. Per strategy it prints each backend's mean headline metric at the full budget and
the mean over the learning curve (the normalised area under it), and the paired difference
(other - torch) with its 95 % confidence interval (Student's t over the seeds). A strategy counts
as **unchanged** when that interval holds 0 for both figures, or when the difference is within
0.01 either way.

It also compares the two backends' embeddings of every text the runs embedded (read from the
embedding cache, so nothing is encoded again): the cosine of each text's vector to torch's.
The cache keeps float16 rows, which moves a cosine by about 1e-6.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
from al_common import hh_rlhf, jigsaw_binary, jigsaw_multilabel
from al_label_efficiency import FULL, results_stem  # each dataset's headline metric; its results file
from embedding_backends import MIN_COSINE  # issue 14's bar for a default backend, every text
from scipy import stats  # type: ignore[import-untyped,unused-ignore]

TOLERANCE = 0.01


def load(backend: str, quick: bool) -> dict[str, Any]:
    path = results_stem(backend, quick=quick).with_suffix(".json")
    if not path.exists():
        raise SystemExit(
            f"{path}: missing; run AL_BENCH_BACKEND={backend} bench/al_label_efficiency.py first"
        )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def figures(run: dict[str, Any], key: str) -> tuple[float, float]:
    """The metric at the full budget and its mean over the learning curve."""
    values = [point[key] for point in run["curve"] if key in point]
    return float(values[-1]), float(np.mean(values))


def interval(differences: np.ndarray) -> tuple[float, float, float]:
    """Mean paired difference and its 95 % confidence interval."""
    mean = float(differences.mean())
    if len(differences) < 2:  # one seed: no interval
        return mean, float("nan"), float("nan")
    half = float(
        stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / np.sqrt(len(differences))
    )
    return mean, mean - half, mean + half


def unchanged(mean: float, low: float, high: float) -> bool:
    return abs(mean) <= TOLERANCE or low <= 0.0 <= high


def embedding_cosines(other: str) -> float:
    """Prints each dataset's cosines; returns the lowest."""
    print(f"\n== embeddings: cosine of each text's {other} vector to torch's (from the cache) ==")
    lowest = 1.0
    for loader in (jigsaw_binary, jigsaw_multilabel, hh_rlhf):
        a, b = (loader(backend=backend).X for backend in ("torch", other))
        a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        print(
            f"{loader.__name__:<18} {len(cosine):>6} texts  min {cosine.min():.4f}  "
            f"1st percentile {np.percentile(cosine, 1):.4f}  mean {cosine.mean():.4f}"
        )
        lowest = min(lowest, float(cosine.min()))
    return lowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", default="openvino-int8", help="the backend compared with torch")
    parser.add_argument("--quick", action="store_true", help="compare the --quick runs")
    args = parser.parse_args()
    base, other = load("torch", args.quick), load(args.other, args.quick)
    verdicts: list[bool] = []
    for dataset, setup in FULL.items():
        metric = setup.metric
        runs = {
            name: {(r["strategy"], r["seed"]): r for r in data["runs"] if r["dataset"] == dataset}
            for name, data in (("torch", base), (args.other, other))
        }
        pairs = sorted(set(runs["torch"]) & set(runs[args.other]))
        if not pairs:
            continue
        print(f"\n== {dataset}: {metric} at the full budget / mean over the curve, torch vs {args.other} ==")
        print(
            f"{'strategy':<16}{'seeds':>6}{'torch':>16}{args.other:>16}{'diff [95% CI] at budget':>32}"
            f"{'diff [95% CI] over curve':>32}  verdict"
        )
        for strategy in dict.fromkeys(s for s, _ in pairs):
            seeds = [seed for s, seed in pairs if s == strategy]
            a = np.array([figures(runs["torch"][(strategy, seed)], metric) for seed in seeds])
            b = np.array([figures(runs[args.other][(strategy, seed)], metric) for seed in seeds])
            final = interval(b[:, 0] - a[:, 0])
            curve = interval(b[:, 1] - a[:, 1])
            same = unchanged(*final) and unchanged(*curve)
            verdicts.append(same)
            print(
                f"{strategy:<16}{len(seeds):>6}{a[:, 0].mean():>8.3f}/{a[:, 1].mean():.3f}"
                f"{b[:, 0].mean():>8.3f}/{b[:, 1].mean():.3f}"
                f"{final[0]:>+12.3f} [{final[1]:+.3f}, {final[2]:+.3f}]"
                f"{curve[0]:>+12.3f} [{curve[1]:+.3f}, {curve[2]:+.3f}]"
                f"  {'unchanged' if same else 'CHANGED'}"
            )
    if not verdicts:
        raise SystemExit("the two runs share no (dataset, strategy, seed)")
    lowest = embedding_cosines(args.other)
    changed = verdicts.count(False)
    print(
        f"\n{len(verdicts) - changed} of {len(verdicts)} strategies unchanged "
        f"(95 % interval holds 0, or |difference| <= {TOLERANCE}); lowest cosine {lowest:.4f} "
        f"({'>=' if lowest >= MIN_COSINE else '<'} {MIN_COSINE})"
    )
    sys.exit(1 if changed or lowest < MIN_COSINE else 0)


if __name__ == "__main__":
    main()
