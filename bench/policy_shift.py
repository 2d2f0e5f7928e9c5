"""A planted policy shift, and how fast a relabel campaign's order finds the changed labels.

Items: Jigsaw comments (original text, `toxic` as the v1 label; bench/al_common.jigsaw_binary).
The planted v2 rule: a comment v1 called non-toxic that calls someone a fool, idiot, liar, ...
(the regex INSULT below) is toxic under v2. Per seed, the old pool holds those comments at
SHARE of its items (the rest sampled from the other comments), all labeled under v1.

The campaign selects what an admin would (old label non-toxic, ``relabel_label``) and orders it
with the workbench's own calls (``workbench/guidelines/scores.py``): out-of-fold class
probabilities from ``label_quality.out_of_fold_where_trainable`` over the labeled items, then
``label_quality.relabel_order`` (1 - P(old label), highest first). Two cases of "labels as they
stand": only the old pool's v1 labels (the campaign opened as v2 is published), and the same
plus NEW comments labeled under v2 (the campaign opened after v2 has been in force a while).
Against it: the candidates in a random order. Printed: how many relabels until 50 % and 90 % of
the changed items are found (ordered, then random), per seed, and the ratio random / ordered at
90 %. The workbench takes the third case ("v2 labels only": a model trained on the items labeled
under the current version) once 50 items of both classes are, else the second.

The rule is a keyword rule, which a bag-of-words model can pick up; the ordering never sees the
rule, only the old labels (and, in the second case, the v2 labels of other comments). An admin
who knows the rule as a regex would select by it instead (``relabel_pattern``).

Run:  .venv/bin/python bench/policy_shift.py [--seeds 5] [--share 0.15] [--new 300]
      [--features all-MiniLM-L6-v2|hashed]
"""

from __future__ import annotations

import argparse
import os
import re
import time

import numpy as np
from al_common import jigsaw_binary

import label_quality as lq

INSULT = re.compile(
    r"(?i)\b(fool|idiot|stupid|moron|dumb|ignorant|liar|pathetic|clueless|incompetent|hypocrite"
    r"|loser|jerk|troll|ridiculous|nonsense|lazy|rude|arrogant|childish|vandal)\w*"
)
FOUND = 0.9


def until_found(order: np.ndarray, changed: np.ndarray, share: float = FOUND) -> int:
    """Relabels (a prefix of ``order``) until ``share`` of the changed candidates are found."""
    need = int(np.ceil(share * changed.sum()))
    hits = np.cumsum(changed[order])
    return int(np.searchsorted(hits, need) + 1)


def campaign_order(X: np.ndarray, labels: np.ndarray, candidates: np.ndarray, seed: int) -> np.ndarray:
    """The workbench's order of ``candidates`` (positions into X / labels)."""
    oof = lq.out_of_fold_where_trainable(X, labels, 2, rng=np.random.default_rng(seed), n_folds=5)
    assert oof.pred_probs is not None
    ranked = lq.relabel_order(labels[candidates], oof.pred_probs[candidates])
    return ranked.order


def current_policy_order(
    X_new: np.ndarray, y_new: np.ndarray, X_cand: np.ndarray, old: np.ndarray
) -> np.ndarray:
    """Candidates ordered by a model trained on the current-policy (v2) labels only."""
    model = lq.default_classifier().fit(X_new, y_new)
    return lq.relabel_order(old, model.predict_proba(X_cand)).order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--share", type=float, default=0.15, help="share of the pool the shift changes")
    parser.add_argument("--new", type=int, default=300, help="comments labeled under v2 in the second case")
    parser.add_argument("--features", default="all-MiniLM-L6-v2")
    args = parser.parse_args()

    started = time.perf_counter()
    data = jigsaw_binary(args.features)
    X = np.asarray(data.X, dtype=np.float32)
    v1 = data.y.astype(np.int64)
    rule = np.array([bool(INSULT.search(t)) for t in data.texts])
    v2 = np.where(rule, 1, v1)
    shifted = np.flatnonzero((v1 == 0) & rule)
    print(f"{len(v1)} comments, {len(shifted)} change under v2; features {args.features}")
    print(
        f"{'seed':>4} {'pool':>5} {'changed':>7} {'candidates':>10} | {'case':<16} "
        f"{'50 %':>5} {'rnd':>5} {'90 %':>5} {'rnd':>5} {'ratio':>6}"
    )
    names = ("v1 labels only", "as they stand", "v2 labels only")
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        everything = rng.permutation(len(v1))
        new = everything[: args.new]  # labeled under v2 since it was published (natural share)
        rest = everything[args.new :]
        changes = (v1[rest] == 0) & rule[rest]
        changed_part = rest[changes]
        n_rest = int(round(len(changed_part) * (1 - args.share) / args.share))
        pool = np.concatenate([changed_part, rest[~changes][:n_rest]])
        candidates = np.flatnonzero(v1[pool] == 0)  # relabel_label=non-toxic, positions in the pool
        changed = (v2[pool] != v1[pool])[candidates]
        shuffled = rng.permutation(len(candidates))
        randomly, random_half = until_found(shuffled, changed), until_found(shuffled, changed, 0.5)
        both_X, both_y = np.concatenate([X[pool], X[new]]), np.concatenate([v1[pool], v2[new]])
        orders = {
            "v1 labels only": campaign_order(X[pool], v1[pool], candidates, seed),
            "as they stand": campaign_order(both_X, both_y, candidates, seed),
            "v2 labels only": current_policy_order(
                X[new], v2[new], X[pool][candidates], v1[pool][candidates]
            ),
        }
        for name, order in orders.items():
            ordered = until_found(order, changed)
            half = until_found(order, changed, 0.5)
            ratios[name].append(randomly / ordered)
            print(
                f"{seed:>4} {len(pool):>5} {int(changed.sum()):>7} {len(candidates):>10} | "
                f"{name:<16} {half:>5} {random_half:>5} {ordered:>5} {randomly:>5} {randomly / ordered:>6.2f}"
            )
    for name, values in ratios.items():
        print(
            f"{name}: random / ordered relabels to find 90 %: "
            f"mean {np.mean(values):.2f}, min {min(values):.2f}"
        )
    print(
        f"wall {time.perf_counter() - started:.1f} s; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
