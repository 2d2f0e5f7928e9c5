"""Does the label-side audit catch an annotator who calls every mention of one group toxic?

Items: the 3,397 HateCheck cases (real texts, expert gold label, target group in target_ident:
7 groups, 257 cases without a target). Simulated crowd per seed: 8 annotators, 3 of them drawn
at random per item; honest annotators follow the gold label with their own accuracy drawn from
U(0.85, 0.95) (symmetric noise). One annotator (random per seed) is biased: every mention of one
group (random per seed) is labelled hateful (--bias-rate < 1: only that share of the mentions,
the rest honestly), everything else honestly.

For each of --seeds seeds, audits.label_audit runs with the peer-adjusted test (default) and the
raw test (annotator's rate on the group vs on other items); reported: how often the biased
annotator is flagged on the right group, on a wrong group, and how often an honest annotator is
flagged. A control run without any biased annotator shows the false-flag rate alone. Last, the
audit of HateCheck's real 10 annotators (5 per case).

Run:  .venv/bin/python bench/audit_annotator_bias.py [--seeds N] [--per-item K] [--annotators M]
      [--fdr Q] [--min-effect D] [--bias-rate R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from audit_common import DATA, machine_load, print_table

from audits import LabelAuditReport, groups_from_labels, label_audit


def simulate(
    truth: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    *,
    n_annotators: int,
    per_item: int,
    biased: int | None,
    biased_group: str | None,
    bias_rate: float = 1.0,
) -> np.ndarray:
    n = truth.shape[0]
    accuracy = rng.uniform(0.85, 0.95, n_annotators)
    ratings = np.full((n, n_annotators), np.nan)
    for i in range(n):
        for j in rng.choice(n_annotators, per_item, replace=False):
            if j == biased and target[i] == biased_group and rng.random() < bias_rate:
                ratings[i, j] = 1.0
            else:
                ratings[i, j] = truth[i] if rng.random() < accuracy[j] else 1.0 - truth[i]
    return ratings


def tally(report: LabelAuditReport, biased: str | None, group: str | None) -> tuple[bool, bool, set[str]]:
    hit = any(
        t.annotator == biased and t.group == group and t.direction in ("over", "raw") for t in report.flagged
    )
    wrong_group = any(t.annotator == biased and t.group != group for t in report.flagged)
    honest = {t.annotator for t in report.flagged if t.annotator != biased}
    return hit, wrong_group, honest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--per-item", type=int, default=3)
    parser.add_argument("--fdr", type=float, default=0.05)
    parser.add_argument("--min-effect", type=float, default=0.2)
    parser.add_argument(
        "--bias-rate",
        type=float,
        default=1.0,
        help="share of the group's mentions the biased annotator calls hateful regardless (default 1.0: all)",
    )
    args = parser.parse_args(argv)
    print(f"load before: {machine_load()}")
    t0 = time.perf_counter()
    items = pd.read_csv(DATA / "hatecheck_items.csv")
    truth = (items["label_gold"] == "hateful").to_numpy(float)
    target = items["target_ident"].fillna("").to_numpy()
    groups = groups_from_labels([t or None for t in target])
    names = [f"sim{j:02d}" for j in range(args.annotators)]
    audit = {"fdr": args.fdr, "min_effect": args.min_effect}
    print(f"{len(items)} HateCheck cases, groups {groups.counts()}")
    print(
        f"{args.annotators} simulated annotators, {args.per_item} per item, honest accuracy U(0.85, 0.95); "
        f"the biased one calls {args.bias_rate:.0%} of its group's mentions hateful"
    )

    rows = []
    results: dict[str, dict[str, list[float]]] = {}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        biased = int(rng.integers(args.annotators))
        group = str(rng.choice(groups.group_names))
        ratings = simulate(
            truth,
            target,
            rng,
            n_annotators=args.annotators,
            per_item=args.per_item,
            biased=biased,
            biased_group=group,
            bias_rate=args.bias_rate,
        )
        control = simulate(
            truth,
            target,
            np.random.default_rng(10_000 + seed),
            n_annotators=args.annotators,
            per_item=args.per_item,
            biased=None,
            biased_group=None,
        )
        for method in ("peer", "raw"):
            report = label_audit(ratings, groups, annotators=names, method=method, **audit)
            hit, wrong, honest = tally(report, names[biased], group)
            control_report = label_audit(control, groups, annotators=names, method=method, **audit)
            _, _, control_flags = tally(control_report, None, None)
            r = results.setdefault(method, {"hit": [], "wrong": [], "honest": [], "control": []})
            r["hit"].append(hit)
            r["wrong"].append(wrong)
            r["honest"].append(len(honest))
            r["control"].append(len(control_flags))
            evidence = next(
                (t for t in report.flagged if t.annotator == names[biased] and t.group == group), None
            )
            rows.append(
                (
                    seed,
                    method,
                    names[biased],
                    group,
                    "yes" if hit else "NO",
                    "yes" if wrong else "no",
                    len(honest),
                    len(control_flags),
                    f"{evidence.k_group}/{evidence.n_group} vs {evidence.k_other}/{evidence.n_other}, "
                    f"q {evidence.q_value:.1e}"
                    if evidence
                    else "-",
                )
            )
    print_table(
        "per seed (evidence: counts of the flagged test, group side vs other items)",
        (
            "seed",
            "test",
            "biased",
            "group",
            "flagged on group",
            "on another group",
            "honest flagged",
            "honest flagged, no-bias control",
            "evidence",
        ),
        rows,
    )
    honest_total = args.seeds * (args.annotators - 1)
    summary = []
    for method, r in results.items():
        summary.append(
            (
                method,
                f"{sum(r['hit'])}/{args.seeds}",
                f"{sum(r['wrong'])}/{args.seeds}",
                f"{int(sum(r['honest']))}/{honest_total}",
                f"{int(sum(r['control']))}/{args.seeds * args.annotators}",
            )
        )
    print_table(
        f"summary over {args.seeds} seeds (BH fdr {args.fdr}, min effect {args.min_effect})",
        (
            "test",
            "biased flagged on its group",
            "biased flagged on another group",
            "honest annotators flagged",
            "annotators flagged, no-bias control",
        ),
        summary,
    )

    long = pd.read_csv(DATA / "hatecheck_annotations_long.csv")
    real_names = sorted(long["annotator_id"].unique())
    pos = {c: i for i, c in enumerate(items["case_id"])}
    col = {a: j for j, a in enumerate(real_names)}
    real = np.full((len(items), len(real_names)), np.nan)
    for case, ann, label in long[["case_id", "annotator_id", "label"]].itertuples(index=False):
        real[pos[case], col[ann]] = 1.0 if label == "hateful" else 0.0
    report = label_audit(real, groups, annotators=real_names, labels=truth, **audit)
    print_table(
        "HateCheck's real annotators: per group",
        ("group", "items", "ratings", "hateful ratings", "gold hateful", "Krippendorff alpha"),
        [
            (
                g.group,
                g.n_items,
                g.n_ratings,
                f"{g.rating_prevalence:.3f}",
                f"{g.label_prevalence:.3f}",
                f"{g.alpha.value:.3f}" if hasattr(g.alpha, "value") else "too few",
            )
            for g in report.groups
        ],
    )
    print(f"flagged (peer test): {len(report.flagged)} of {len(report.tests)} tests")
    for t in report.flagged:
        print(
            f"  {t.annotator} / {t.group} / {t.direction}: {t.k_group}/{t.n_group} vs {t.k_other}/{t.n_other}"
            f" (rates {t.rate_group:.2f} vs {t.rate_other:.2f}), q {t.q_value:.2g}"
        )
    print(f"\ntotal {time.perf_counter() - t0:.1f} s; load after: {machine_load()}")


if __name__ == "__main__":
    main()
