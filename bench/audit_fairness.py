"""Fairness audit of a simple toxicity model on the shared identity sets (issue 9 bench).

Model: logistic regression (class_weight="balanced") on hashed TF-IDF features, trained on
jigsaw_toxic_binary_sample.csv (3,714 Wikipedia comments, 226 toxic). It stands in for a round's
model; see FEATURES_NOTE for why not MiniLM.

Evaluated with audits.fairness_audit (subgroup / BPSN / BNSP AUC, FPR / FNR at the threshold,
bootstrap intervals, minimum-count guard) on:

1. identity_bias_madlibs_sample.csv.gz: synthetic templates; groups from the default lexicon.
2. wiki_toxicity_identity_fuzzed_pairs.csv: real comments, groups from the lexicon; plus the
   counterfactual gap distribution between each perturbed comment and its identity-swapped copy.
3. hatecheck_items.csv: groups from the target_ident column (label = gold "hateful").

Run:  .venv/bin/python bench/audit_fairness.py [--resamples N] [--madlibs-n N] [--min-count N] [--seed S]
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

import numpy as np
import pandas as pd
from audit_common import DATA, FEATURES_NOTE, hashed_counts, machine_load, print_table

from audits import (
    Estimate,
    FairnessReport,
    InsufficientData,
    MetricResult,
    counterfactual_gaps,
    default_lexicon,
    fairness_audit,
    groups_from_labels,
    groups_from_text,
)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


SHORT = {
    "subgroup_positives": "sub+",
    "subgroup_negatives": "sub-",
    "background_positives": "bg+",
    "background_negatives": "bg-",
}


def cell(result: MetricResult) -> str:
    if isinstance(result, InsufficientData):
        return "too few (" + ", ".join(f"{SHORT.get(k, k)} {v}" for k, v in result.counts.items()) + ")"
    if result.interval is None:
        return f"{result.value:.3f}"
    return f"{result.value:.3f} [{result.interval.low:.2f},{result.interval.high:.2f}]"


def show(title: str, report: FairnessReport) -> None:
    rows = [
        (
            g.group,
            g.n_items,
            g.n_positive,
            cell(g.subgroup_auc),
            cell(g.bpsn_auc),
            cell(g.bnsp_auc),
            cell(g.false_positive_rate),
            cell(g.false_negative_rate),
        )
        for g in report.groups
    ]
    print_table(
        f"{title}: {report.n_items} items, {report.n_positive} toxic; threshold {report.threshold:.2f}; "
        f"95% bootstrap intervals over {report.n_resamples} resamples; min count {report.min_count}",
        ("group", "items", "toxic", "subgroup AUC", "BPSN AUC", "BNSP AUC", "FPR", "FNR"),
        rows,
    )
    means = ", ".join(
        f"{k} over {len(report.groups_in_mean[k])} groups {cell(v)}" for k, v in report.bias_means.items()
    )
    print(f"overall AUC {cell(report.overall_auc)}; power means (p={report.power:g}): {means}")
    print(f"final bias metric: {cell(report.final_metric)}")
    low = sorted((g.bpsn_auc.value, g.group) for g in report.groups if isinstance(g.bpsn_auc, Estimate))[:3]
    print("lowest BPSN AUC (innocuous mentions scored toxic): " + ", ".join(f"{g} {v:.3f}" for v, g in low))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resamples", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument(
        "--madlibs-n", type=int, default=20000, help="madlibs rows to use (default all 20,000)"
    )
    parser.add_argument("--min-count", type=int, default=10, help="minimum positives/negatives per metric")
    parser.add_argument("--threshold", type=float, default=0.5, help="decision threshold on the probability")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(FEATURES_NOTE)
    print(f"load before: {machine_load()}")
    t0 = time.perf_counter()

    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    train = pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv")
    tfidf = TfidfTransformer(sublinear_tf=True).fit(hashed_counts(train["comment_text"]))
    model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)
    model.fit(tfidf.transform(hashed_counts(train["comment_text"])), train["toxic"].to_numpy())

    def score(texts: Any) -> np.ndarray:
        return np.asarray(model.predict_proba(tfidf.transform(hashed_counts(list(texts))))[:, 1])

    print(f"model trained on {len(train)} Jigsaw comments ({int(train['toxic'].sum())} toxic)")
    lex = default_lexicon()
    print(f"lexicon {lex.name} {lex.version}: {len(lex.terms)} terms, {len(lex.groups)} groups")
    rng = np.random.default_rng(args.seed)
    common = {"threshold": args.threshold, "n_resamples": args.resamples, "min_count": args.min_count}

    madlibs = pd.read_csv(DATA / "identity_bias_madlibs_sample.csv.gz", keep_default_na=False)
    if args.madlibs_n < len(madlibs):
        madlibs = madlibs.sample(n=args.madlibs_n, random_state=args.seed)
    groups = groups_from_text(madlibs["text"].tolist(), lex)
    report = fairness_audit(madlibs["toxic"].to_numpy(), score(madlibs["text"]), groups, rng=rng, **common)
    show("1. bias madlibs (synthetic), groups from the lexicon", report)

    pairs = pd.read_csv(DATA / "wiki_toxicity_identity_fuzzed_pairs.csv")
    s_orig = score(pairs["comment"])
    groups = groups_from_text(pairs["comment"].tolist(), lex)
    report = fairness_audit(pairs["toxic"].to_numpy(), s_orig, groups, rng=rng, **common)
    show("2. Wikipedia toxicity, fuzzed-pairs file (original comments), groups from the lexicon", report)
    perturbed = pairs["is_perturbed"].to_numpy() == 1
    s_fuzz = score(pairs.loc[perturbed, "comment_fuzzed"])
    gaps = counterfactual_gaps(s_orig[perturbed], s_fuzz, top_k=5)
    print(
        f"\ncounterfactual gaps over {gaps.n_pairs} identity-swapped pairs "
        "(|score(original) - score(swapped)|):"
    )
    print("  quantiles " + ", ".join(f"q{q:g} {v:.4f}" for q, v in gaps.quantiles.items()))
    print(
        f"  mean |gap| {gaps.mean_abs_gap:.4f}, "
        f"mean signed gap (swapped - original) {gaps.mean_signed_gap:+.4f}"
    )
    print("  share with |gap| > " + ", ".join(f"{t:g}: {v:.3f}" for t, v in gaps.share_above.items()))
    originals = pairs.loc[perturbed].reset_index(drop=True)
    for gap in gaps.largest:
        row = originals.iloc[gap.position]
        swap = [
            f"{a}->{b}"
            for a, b in zip(words(row["comment"]), words(row["comment_fuzzed"]), strict=False)
            if a != b
        ]
        swap = list(dict.fromkeys(swap))[:3]
        print(f"  rev_id {row['rev_id']}: {gap.score_a:.3f} -> {gap.score_b:.3f} (swap {', '.join(swap)})")

    hatecheck = pd.read_csv(DATA / "hatecheck_items.csv")
    labels = (hatecheck["label_gold"] == "hateful").to_numpy().astype(int)
    groups = groups_from_labels(
        hatecheck["target_ident"].where(hatecheck["target_ident"].notna(), None).tolist()
    )
    report = fairness_audit(labels, score(hatecheck["test_case"]), groups, rng=rng, **common)
    show("3. HateCheck, groups from target_ident", report)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s; load after: {machine_load()}")


if __name__ == "__main__":
    main()
