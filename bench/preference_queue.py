"""The model-free preference queue (``split_votes``) against random: annotations until N pairs
have a confident consensus (issue 11). Pure simulation over the library; no Label Studio, no
database.

Pool: the first ``--pool`` pairs of ``hh_rlhf_sample.jsonl.gz`` (the human-chosen response is the
truth; prompts embedded with the hashed featurizer, for the queue's prompt diversity). Each pair
gets a clarity ``c`` ~ Uniform(0.2, 1) (some pairs are close calls); a crowd of ``--annotators``
simulated annotators of mixed quality (accuracies evenly spread over ``--accuracy``, e.g. 0.55
to 0.95) votes the truth with probability ``0.5 + (accuracy - 0.5) * c``, says tie with
probability ``--tie-rate``, else the other side. An item never gets the same annotator twice.

Confident consensus: the most-voted direction leads the runner-up by at least 2 votes
(``active_learning.is_confident``; for annotators who are right 75 % of the time a two-vote lead
is a posterior of 0.9). Reported too: how many of the confident labels are the truth.

The queue works in rounds of ``--batch`` items, as the workbench does: an item below the
project's overlap (``--overlap``, ``annotators_per_item``) gets the missing votes through its own
task; an item at or above it that the queue picks gets a follow-up task, answered by ``overlap``
more annotators (Label Studio's overlap is per project), never above ``--cap``
(``max_annotators_per_item``).

Arms (same pool, same annotators and the same answer stream per seed):
  split_votes          the model-free queue: split items first (fewest votes needed first), then
                       started, then new ones; follow-ups up to the cap; distinct prompts per batch
  random+follow-ups    ablation: the same follow-ups and cap as split_votes, random order
  random, overlap k    the workbench's random queue today: random order, every item gets ``k``
                       votes and never more (a split stays split); k = ``--overlap`` and each
                       of ``--fixed`` (more redundancy for everyone, the other way to get more
                       pairs confident)

Run:  .venv/bin/python bench/preference_queue.py [--seeds 5] [--pool 1000] [--target 300]
      [--overlap 2] [--cap 6] [--batch 50]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from audit_common import DATA, machine_load  # noqa: E402

from active_learning import get_strategy, is_confident  # noqa: E402
from active_learning.featurizers import HashedFeaturizer  # noqa: E402
from active_learning.strategies import PoolView  # noqa: E402

A, B, TIE = 0, 1, 2


def load_prompts(n: int) -> list[str]:
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    return [r["prompt"] for r in rows]


class Crowd:
    """The answer stream of one seed: for item i, the j-th annotator to reach it and their vote
    are fixed in advance, so every arm sees the same answers in the same order per item."""

    def __init__(self, n: int, args: argparse.Namespace, seed: int) -> None:
        rng = np.random.default_rng([seed, 1])
        low, high = (float(x) for x in args.accuracy.split(","))
        self.accuracy = np.linspace(low, high, args.annotators)
        self.truth = rng.integers(0, 2, size=n)  # A or B: which side the chosen response is on
        clarity = rng.uniform(0.2, 1.0, size=n)
        # The order annotators reach each item (distinct per item) and their draws.
        self.order = np.argsort(rng.random((n, args.annotators)), axis=1)
        p_true = 0.5 + (self.accuracy[self.order] - 0.5) * clarity[:, None]
        u = rng.random((n, args.annotators))
        tie = u < args.tie_rate
        right = (u - args.tie_rate) < p_true * (1 - args.tie_rate)
        self.votes = np.where(tie, TIE, np.where(right, self.truth[:, None], 1 - self.truth[:, None]))

    def vote(self, item: int, nth: int) -> int:
        return int(self.votes[item, nth])


def simulate(
    arm: str, crowd: Crowd, prompts: NDArray[np.float32], args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    n = prompts.shape[0]
    counts = np.zeros((n, 3))
    rng = np.random.default_rng([seed, sum(map(ord, arm)), 2])
    spent = 0
    rounds = 0
    strategy = get_strategy("split_votes" if arm == "split_votes" else "random")
    follow_ups = not arm.startswith("random, overlap")
    overlap = int(arm.rsplit(" ", 1)[1]) if not follow_ups else args.overlap
    reached = 0
    while reached < args.target:
        confident = is_confident(counts)
        total = counts.sum(axis=1)
        if follow_ups:
            eligible = total < args.cap
            if arm != "split_votes":  # the random ablation skips what split_votes calls settled
                eligible &= ~((total >= args.overlap) & confident)
        else:
            eligible = total < overlap
        pool = np.nonzero(eligible)[0]
        if pool.size == 0:
            break
        view = PoolView(
            n=pool.size,
            task="preference",
            vote_counts=counts[pool],
            prompt_features=prompts[pool],
            min_annotations=overlap,
            max_annotations=args.cap,
            gold_share=0.0,
        )
        scores = strategy.score(view, rng)
        live = int(np.isfinite(scores).sum())
        if live == 0:
            break
        picked = pool[strategy.select(scores, min(args.batch, live), rng, view)]
        rounds += 1
        for item in picked:
            have = int(total[item])
            more = overlap - have if have < overlap else min(overlap, args.cap - have)
            was = bool(is_confident(counts[item : item + 1])[0])
            for nth in range(have, have + more):
                counts[item, crowd.vote(item, nth)] += 1
                spent += 1
                now = bool(is_confident(counts[item : item + 1])[0])
                reached += int(now) - int(was)
                was = now
                if reached >= args.target:
                    break  # counted to the annotation that made the N-th pair confident
            if reached >= args.target:
                break
    confident = is_confident(counts)
    majority = np.argmax(counts, axis=1)
    correct = (
        float(np.mean(majority[confident] == crowd.truth[confident])) if confident.any() else float("nan")
    )
    return {
        "annotations": spent,
        "reached": int(confident.sum()),
        "accuracy": correct,
        "rounds": rounds,
        "max_votes": int(counts.sum(axis=1).max()),
    }


def _mean_std(values: list[float]) -> str:
    arr = np.asarray(values, dtype=float)
    return f"{arr.mean():.0f} ± {arr.std(ddof=1) if arr.size > 1 else 0.0:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--target", type=int, default=300, help="N: pairs with a confident consensus")
    parser.add_argument("--overlap", type=int, default=2, help="annotators_per_item")
    parser.add_argument("--cap", type=int, default=6, help="max_annotators_per_item")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--accuracy", default="0.55,0.95", help="lowest,highest annotator accuracy")
    parser.add_argument("--tie-rate", type=float, default=0.05)
    parser.add_argument("--fixed", default="3,4", help="more fixed overlaps for the random baseline")
    args = parser.parse_args(argv)
    if args.cap > args.annotators:
        parser.error("--cap must not exceed --annotators (an item never gets the same annotator twice)")

    started = time.perf_counter()
    texts = load_prompts(args.pool)
    prompts = HashedFeaturizer().encode(texts)
    print(
        f"pool {len(texts)} HH-RLHF pairs, target {args.target} confident (lead >= 2 votes), "
        f"overlap {args.overlap}, cap {args.cap}, batch {args.batch}, {args.annotators} annotators "
        f"(accuracy {args.accuracy}), tie rate {args.tie_rate}, {args.seeds} seeds"
    )
    fixed = sorted({args.overlap, *(int(k) for k in args.fixed.split(",") if k)})
    arms = ["split_votes", "random+follow-ups", *(f"random, overlap {k}" for k in fixed)]
    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    for seed in range(args.seeds):
        crowd = Crowd(len(texts), args, seed)
        for arm in arms:
            results[arm].append(simulate(arm, crowd, prompts, args, seed))
    print(
        f"{'arm':<20} {'annotations':>14} {'confident':>12} {'reached N':>9} {'correct':>8} {'max votes':>9}"
    )
    for arm in arms:
        rows = results[arm]
        reached = sum(r["reached"] >= args.target for r in rows)
        print(
            f"{arm:<20} {_mean_std([r['annotations'] for r in rows]):>14} "
            f"{_mean_std([r['reached'] for r in rows]):>12} {reached:>5}/{len(rows):<3} "
            f"{np.mean([r['accuracy'] for r in rows]):>8.3f} {max(r['max_votes'] for r in rows):>9}"
        )
    ours = np.array([r["annotations"] for r in results["split_votes"]], dtype=float)
    for arm in arms[1:]:
        if any(r["reached"] < args.target for r in results[arm]):
            print(f"ratio split_votes / {arm}: - ({arm} never reaches N: the pool runs out)")
            continue
        ratio = ours / np.array([r["annotations"] for r in results[arm]], dtype=float)
        spread = ratio.std(ddof=1) if ratio.size > 1 else 0.0
        print(f"ratio split_votes / {arm}: {ratio.mean():.3f} ± {spread:.3f}")
    print(f"{time.perf_counter() - started:.1f} s; load: {machine_load()}")


if __name__ == "__main__":
    main()
