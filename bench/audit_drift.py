"""Drift checks between two samples (issue 9 bench).

1. Two random halves of jigsaw_toxic_binary_sample.csv (3,714 comments): expect AUC ~ 0.5 and
   the verdict "no shift".
2. A Jigsaw batch (jigsaw_toxic_sample.csv, 2,088 comments, label toxic) against Davidson tweets
   (davidson_hate_offensive_sample.csv.gz, --davidson-n sampled; label: class hate or offensive
   = toxic): expect a clear input shift (and a label shift: 26 % vs ~80 % toxic).
3. Time of one drift check at --scale-n items per side, resampled with replacement from the
   Jigsaw files (side A) and the Davidson file (side B); featurising is timed separately.

Each check: audits.drift_report with the classifier two-sample test (5-fold logistic
regression), the KS test on character length, identity-group rates from the default lexicon and
the label chi-square. See FEATURES_NOTE for the features (hashed TF-IDF, not MiniLM).

Run:  .venv/bin/python bench/audit_drift.py [--scale-n N] [--davidson-n N] [--permutations P] [--seed S]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from audit_common import DATA, FEATURES_NOTE, machine_load

from audits import DriftReport, default_lexicon, drift_report, groups_from_text, hashed_tfidf_pair


def featurise(texts_a: list[str], texts_b: list[str], n_features: int) -> tuple[Any, Any]:
    return hashed_tfidf_pair(texts_a, texts_b, n_features=n_features)


def check(
    title: str,
    texts_a: list[str],
    texts_b: list[str],
    labels_a: Any,
    labels_b: Any,
    *,
    seed: int,
    n_features: int,
    permutations: int = 0,
    show_items: bool = True,
) -> DriftReport:
    t0 = time.perf_counter()
    xa, xb = featurise(texts_a, texts_b, n_features)
    t_feat = time.perf_counter() - t0
    lex = default_lexicon()
    t1 = time.perf_counter()
    ga, gb = (
        groups_from_text(texts_a, lex).masks(include_empty=True),
        groups_from_text(texts_b, lex).masks(include_empty=True),
    )
    t_groups = time.perf_counter() - t1
    t2 = time.perf_counter()
    report = drift_report(
        xa,
        xb,
        rng=np.random.default_rng(seed),
        labels_a=labels_a,
        labels_b=labels_b,
        lengths_a=[len(t) for t in texts_a],
        lengths_b=[len(t) for t in texts_b],
        groups_a=ga,
        groups_b=gb,
        n_permutations=permutations,
    )
    t_check = time.perf_counter() - t2
    c = report.classifier
    interval = f"[{c.interval.low:.3f}, {c.interval.high:.3f}]" if c.interval else "(no interval)"
    print(f"\n{title}: {c.n_a} vs {c.n_b} items")
    print(f"  classifier two-sample AUC {c.auc:.3f} {interval}, p {c.p_value:.3g} ({c.null})")
    if report.length:
        ln = report.length
        print(
            f"  length KS {ln.ks_statistic:.3f} (p {ln.p_value:.3g}), "
            f"median chars {ln.median_a:g} vs {ln.median_b:g}"
        )
    if report.labels:
        lb = report.labels
        print(
            f"  toxic share {lb.prevalence_a[-1]:.3f} vs {lb.prevalence_b[-1]:.3f} (classes {lb.classes}), "
            f"chi-square p {lb.p_value:.3g}"
        )
    moved = [g for g in report.groups if g.q_value < report.thresholds.alpha]
    print(
        "  identity groups with a significant rate change: "
        + (", ".join(f"{g.group} {g.rate_a:.3f}->{g.rate_b:.3f}" for g in moved) or "none")
    )
    print(f"  VERDICT: {report.verdict}")
    for reason in report.reasons:
        print(f"    - {reason}")
    th = report.thresholds
    print(
        f"  thresholds: alpha {th.alpha}, classifier AUC >= {th.classifier_auc}, KS >= {th.length_ks}, "
        f"group rate diff >= {th.group_rate_diff}, label prevalence diff >= {th.label_prevalence_diff}"
    )
    if show_items:
        for side, texts, positions in (("A", texts_a, c.most_a[:3]), ("B", texts_b, c.most_b[:3])):
            for p in positions:
                print(f"    most {side}-like: {texts[p][:90]!r}")
    print(f"  time: features {t_feat:.1f} s, lexicon groups {t_groups:.1f} s, drift check {t_check:.1f} s")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale-n", type=int, default=20000, help="items per side of the timed check (0: skip)"
    )
    parser.add_argument("--davidson-n", type=int, default=2088, help="Davidson tweets in check 2")
    parser.add_argument("--permutations", type=int, default=0, help="permutation-null refits in checks 1-2")
    parser.add_argument("--n-features", type=int, default=2**18, help="hashed feature count")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(FEATURES_NOTE)
    print(f"load before: {machine_load()}")
    rng = np.random.default_rng(args.seed)

    binary = pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv")
    order = rng.permutation(len(binary))
    half = len(binary) // 2
    a, b = binary.iloc[order[:half]], binary.iloc[order[half:]]
    check(
        "1. two random halves of one Jigsaw file",
        a["comment_text"].tolist(),
        b["comment_text"].tolist(),
        a["toxic"].to_numpy(),
        b["toxic"].to_numpy(),
        seed=args.seed,
        n_features=args.n_features,
        permutations=args.permutations,
    )

    jigsaw = pd.read_csv(DATA / "jigsaw_toxic_sample.csv")
    davidson = pd.read_csv(DATA / "davidson_hate_offensive_sample.csv.gz")
    tweets = davidson.sample(n=min(args.davidson_n, len(davidson)), random_state=args.seed)
    check(
        "2. a Jigsaw batch vs Davidson tweets",
        jigsaw["comment_text"].tolist(),
        tweets["tweet"].tolist(),
        jigsaw["toxic"].to_numpy(),
        (tweets["class"] != 2).to_numpy().astype(int),
        seed=args.seed,
        n_features=args.n_features,
        permutations=args.permutations,
    )

    if args.scale_n:
        pool_a = pd.concat([jigsaw[["comment_text", "toxic"]], binary[["comment_text", "toxic"]]])
        side_a = pool_a.sample(n=args.scale_n, replace=True, random_state=args.seed)
        side_b = davidson.sample(n=args.scale_n, replace=True, random_state=args.seed)
        t0 = time.perf_counter()
        check(
            f"3. timed: {args.scale_n} resampled Jigsaw vs {args.scale_n} resampled Davidson items",
            side_a["comment_text"].tolist(),
            side_b["tweet"].tolist(),
            side_a["toxic"].to_numpy(),
            (side_b["class"] != 2).to_numpy().astype(int),
            seed=args.seed,
            n_features=args.n_features,
            show_items=False,
        )
        print(
            f"  end to end {time.perf_counter() - t0:.1f} s (duplicates from resampling cross the folds, "
            "so this AUC is not a figure of merit, only the time is)"
        )
    print(f"\nload after: {machine_load()}")


if __name__ == "__main__":
    main()
