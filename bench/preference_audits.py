"""Preference audits (issue 11), two measurements, no Label Studio, no database:

1. Length audit on ``hh_rlhf_sample.jsonl.gz``: the share of pairs where the human-chosen response
   is the longer one (characters; pairs of equal length left out), overall and per
   ``source_split``, with 95 % Wilson intervals (``label_quality.longer_chosen``); and how many
   pairs the import-time check calls near-identical (``label_quality.near_identical_pairs``).
2. Position-bias detection over ``--seeds`` seeds: per seed, ``--items`` pairs are shown in the
   workbench's random order (``workbench.projects.sides.draw``, seeded per seed and item), each
   answered by ``--honest`` honest annotators (the gold side, wrong with probability
   ``--error-rate``) and one position-biased annotator who picks the first-shown response with
   probability ``--first-rate`` (default 0.7) whatever it says; the quality run's test
   (``label_quality.position_bias``, exact binomial, alpha 0.05) flags or not. Reported: the
   biased annotator's detection rate and the honest annotators' false-flag rate, per number of
   answers.

Run:  .venv/bin/python bench/preference_audits.py [--seeds 20] [--items 60,100,200]
      [--honest 10] [--first-rate 0.7] [--error-rate 0.1] [--near-limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time

from audit_common import DATA, ROOT, machine_load, print_table

# bench/label_quality.py (another benchmark) would shadow the library of the same name.
sys.path.insert(0, str(ROOT))

import label_quality as lq  # noqa: E402
from workbench.projects import sides  # noqa: E402


def pct(share: lq.Share) -> str:
    if share.n == 0:
        return "–"
    return f"{share.share:.3f} [{share.ci_low:.3f}, {share.ci_high:.3f}]"


def length_audit(near_limit: int | None) -> None:
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as handle:
        pairs = [json.loads(line) for line in handle]
    chosen = [len(p["chosen_response"]) for p in pairs]
    rejected = [len(p["rejected_response"]) for p in pairs]
    overall, groups = lq.longer_chosen(chosen, rejected, groups=[p["source_split"] for p in pairs])
    rows = [["(all)", len(pairs), overall.n, overall.k, pct(overall)]]
    sizes = {g: sum(1 for p in pairs if p["source_split"] == g) for g in {p["source_split"] for p in pairs}}
    rows += [[g.group, sizes[str(g.group)], g.share.n, g.share.k, pct(g.share)] for g in groups]
    print_table(
        f"Length audit: hh_rlhf_sample.jsonl.gz ({len(pairs)} pairs; chosen vs rejected, characters)",
        ["source_split", "pairs", "unequal length", "chosen longer", "share [95% Wilson]"],
        rows,
    )
    subset = pairs[:near_limit] if near_limit else pairs
    started = time.perf_counter()
    found = lq.near_identical_pairs(
        [p["chosen_response"] for p in subset], [p["rejected_response"] for p in subset]
    )
    seconds = time.perf_counter() - started
    reasons: dict[str, int] = {}
    for f in found:
        key = "equal text" if f.reason == "equal text" else "character similarity >= 0.95"
        reasons[key] = reasons.get(key, 0) + 1
    print(
        f"\nNear-identical responses at import (of {len(subset)} pairs, {seconds:.1f} s): {len(found)} "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(reasons.items())) or 'none'}); "
        f"the file's own chosen_equals_rejected flag: {sum(p['chosen_equals_rejected'] for p in subset)}."
    )


def position_detection(
    seeds: int, item_counts: list[int], honest: int, first_rate: float, error_rate: float
) -> None:
    rows = []
    for n_items in item_counts:
        detected = honest_flagged = 0
        for seed in range(seeds):
            rng = random.Random(f"bench:{seed}:{n_items}")
            gold = [rng.choice("AB") for _ in range(n_items)]
            shown = [sides.draw(project_id=seed, item_id=i, seed="bench") for i in range(n_items)]
            first, decided = [], []
            for annotator in range(honest + 1):
                k = m = 0
                for label, order in zip(gold, shown, strict=True):
                    if annotator == honest:  # the position-biased one
                        choice = sides.FIRST if rng.random() < first_rate else sides.SECOND
                        answer = sides.stored_label(choice, order)
                    else:
                        answer = label if rng.random() >= error_rate else ("B" if label == "A" else "A")
                    picked_first = sides.chose_first_shown(answer, order)
                    if picked_first is not None:
                        m += 1
                        k += picked_first
                first.append(k)
                decided.append(m)
            flagged = lq.position_bias(first, decided).flagged
            detected += bool(flagged[honest])
            honest_flagged += int(flagged[:honest].sum())
        honest_total = seeds * honest
        rows.append(
            [
                n_items,
                f"{detected}/{seeds} = {detected / seeds:.2f}",
                f"{honest_flagged}/{honest_total} = {honest_flagged / honest_total:.3f}",
                pct(lq.wilson_share(honest_flagged, honest_total)),
            ]
        )
    print_table(
        f"Position bias: {seeds} seeds; one annotator picks the first-shown response {first_rate:.0%} of the "
        f"time, {honest} honest ones (error rate {error_rate:g}); exact binomial test, alpha "
        f"{lq.POSITION_ALPHA}",
        ["answers per annotator", "biased flagged", "honest flagged", "honest rate [95% Wilson]"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--items", default="60,100,200", help="answers per annotator, comma-separated")
    parser.add_argument("--honest", type=int, default=10)
    parser.add_argument("--first-rate", type=float, default=0.7)
    parser.add_argument("--error-rate", type=float, default=0.1)
    parser.add_argument("--near-limit", type=int, default=None, help="pairs checked for near-identity")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"machine: {machine_load()}")
    length_audit(args.near_limit)
    position_detection(
        args.seeds, [int(n) for n in args.items.split(",")], args.honest, args.first_rate, args.error_rate
    )
    print(f"\ntotal {time.perf_counter() - started:.1f} s; machine: {machine_load()}")


if __name__ == "__main__":
    main()
