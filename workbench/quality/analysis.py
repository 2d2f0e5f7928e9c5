"""The numbers of one quality computation, from a project's ratings (no database here).

Multi-label projects are scored two ways: per label (each label a binary category), and pooled,
where every (item, label) decision is one row of binary ratings; the pooled numbers stand for
the project in the summary, the pairs, the trend and the annotator table.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

import label_quality as lq
from workbench import votes
from workbench.quality.ratings import ProjectRatings

log = logging.getLogger(__name__)

BOOTSTRAP_RESAMPLES = 200
TREND_RESAMPLES = 100
N_FOLDS = 5
# CROWDLAB needs annotators who overlap on more than one item: on a single multi-rated item
# cleanlab's tie-break divides by empty annotator statistics and fails.
MIN_MULTI_RATED = 2


def num(value: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


@dataclass
class Analysis:
    summary: dict[str, Any]
    # Per item position: consensus label of the chosen method (a label value, or list for
    # multi-label) and both methods' labels and quality.
    consensus: list[dict[str, Any]]
    # Per annotator position.
    annotators: list[dict[str, Any]]
    # Flagged issues: (item position, score, given label, suggested label).
    issues: list[tuple[int, float, Any, Any]] = field(default_factory=list)
    # Per item position: the label that label issues were judged on (the vote policy's consensus).
    issue_labels: list[Any] = field(default_factory=list)


def _pooled(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """(items, annotators, labels) -> (items * labels, annotators)."""
    return values.transpose(0, 2, 1).reshape(-1, values.shape[1])


def _with_ci(
    values: NDArray[Any], statistic: Callable[[Any], float], rng: np.random.Generator
) -> dict[str, float | None]:
    estimate = num(statistic(values))
    try:
        ci = lq.bootstrap_ci(values, statistic, rng=rng, n_resamples=BOOTSTRAP_RESAMPLES)
        low, high = num(ci.low), num(ci.high)
    except ValueError:  # fewer than two multi-rated items
        low = high = None
    return {"value": estimate, "ci_low": low, "ci_high": high}


def agreement(ratings: ProjectRatings, rng: np.random.Generator) -> dict[str, Any]:
    values = ratings.matrix.values
    flat = _pooled(values) if ratings.multilabel else values
    k = 2 if ratings.multilabel else ratings.matrix.n_categories
    # Cohen's kappa per annotator pair once (agreement_summary would compute it again just for
    # its mean; 435 pairs of 30 annotators on 100,000 items is seconds).
    pairs = lq.cohen_kappa_pairwise(flat, k)
    weeks = ratings.weeks
    if ratings.multilabel:  # rows of _pooled are item-major: item 0's labels, item 1's, ...
        weeks = np.repeat(ratings.weeks[:, None, :], values.shape[2], axis=1).reshape(-1, values.shape[1])
    # The bootstrapped statistics and the trend read per-item counts only: on the annotator-
    # blind matrix (a few columns instead of one per annotator) they give the same values faster.
    blind, blind_weeks = lq.annotator_blind(flat, weeks)
    # The bootstrap resamples the multi-rated items' count table: the same items in the same
    # order as resampling the matrix, so the same intervals, without re-counting per resample.
    counts = lq.multi_rated_counts(blind, k)
    out: dict[str, Any] = {
        "n_items": len(ratings.item_ids),
        "n_items_multi_rated": int(
            np.sum((~np.isnan(values if values.ndim == 2 else values[:, :, 0])).sum(axis=1) >= 2)
        ),
        "n_annotators": len(ratings.annotator_ids),
        "n_ratings": int((~np.isnan(values if values.ndim == 2 else values[:, :, 0])).sum()),
        "statistics": {
            "percent_agreement": _with_ci(counts, lq.percent_agreement_from_counts, rng),
            "fleiss_kappa": _with_ci(counts, lq.fleiss_kappa_from_counts, rng),
            "krippendorff_alpha": _with_ci(counts, lq.krippendorff_alpha_from_counts, rng),
            "mean_cohen_kappa": {"value": num(pairs.mean()), "ci_low": None, "ci_high": None},
        },
    }
    if ratings.multilabel:
        out["per_label"] = [
            {
                "label": str(name),
                "n_items_multi_rated": s.n_items_multi_rated,
                "percent_agreement": num(s.percent_agreement),
                "fleiss_kappa": num(s.fleiss_kappa),
                "krippendorff_alpha": num(s.krippendorff_alpha),
                "mean_cohen_kappa": num(s.mean_cohen_kappa),
            }
            for name, s in zip(ratings.matrix.label_names, lq.multilabel_agreement(values), strict=True)
        ]
    ids = ratings.annotator_ids
    out["pairs"] = [
        {"a": ids[a], "b": ids[b], "kappa": num(pairs.kappa[a, b]), "n_common": int(pairs.n_common[a, b])}
        for a in range(len(ids))
        for b in range(a + 1, len(ids))
        if pairs.n_common[a, b] > 0
    ]
    trend = lq.agreement_trend(
        blind, blind_weeks, lambda v: lq.krippendorff_alpha(v, k), rng=rng, n_resamples=TREND_RESAMPLES
    )
    percent = {
        p.period: p.value
        for p in lq.agreement_trend(blind, blind_weeks, lambda v: lq.percent_agreement(v, k))
    }
    out["trend_by"] = "iso_week"
    out["trend"] = [
        {
            "period": str(p.period),
            "krippendorff_alpha": num(p.value),
            "ci_low": num(p.ci_low),
            "ci_high": num(p.ci_high),
            "percent_agreement": num(percent.get(p.period)),
            "n_items": p.n_items,
            "n_ratings": p.n_ratings,
        }
        for p in trend
    ]
    return out


def _annotator_rows(
    ratings: ProjectRatings,
    agreement_: lq.AnnotatorAgreement,
    with_consensus: NDArray[np.float64],
    crowd_quality: NDArray[np.float64] | None,
    gold: lq.GoldReport | None,
    values_2d: NDArray[np.float64],
) -> list[dict[str, Any]]:
    rows = []
    for a, ls_user in enumerate(ratings.annotator_ids):
        times = ratings.lead_times.get(ls_user, [])
        rows.append(
            {
                "ls_user_id": ls_user,
                "n_annotations": int((~np.isnan(values_2d[:, a])).sum()),
                "median_lead_time": num(np.median(times)) if times else None,
                # Share of their answers equal to the consensus label; kappa is against the
                # leave-one-out majority of the others (their own vote excluded).
                "agreement": num(with_consensus[a]),
                "agreement_items": int((~np.isnan(values_2d[:, a])).sum()),
                "kappa": num(agreement_.kappa[a]),
                "crowdlab_quality": num(crowd_quality[a]) if crowd_quality is not None else None,
                "gold_answers": int(gold.n_gold[a]) if gold else 0,
                "gold_correct": int(gold.n_correct[a]) if gold else 0,
                "gold_accuracy": num(gold.accuracy[a]) if gold else None,
                "gold_flagged": bool(gold.flagged[a]) if gold else False,
            }
        )
    return rows


def _gold_report(
    codes: NDArray[np.float64], gold_codes: NDArray[np.float64], k: int, threshold: float, min_answers: int
) -> lq.GoldReport | None:
    if np.isnan(gold_codes).all():
        return None
    return lq.gold_report(codes, gold_codes, n_categories=k, threshold=threshold, min_answers=min_answers)


def analyse(
    ratings: ProjectRatings,
    *,
    features: Callable[[list[int]], Any],  # (n, d): a dense array or a scipy CSR matrix
    gold: dict[int, Any],
    method: str,
    gold_threshold: float,
    gold_min_answers: int,
    seed: int,
) -> Analysis:
    """Agreement, consensus (majority vote and CROWDLAB), label issues and gold accuracy.

    ``features(item_ids)`` gives ``(n, d)`` features for out-of-fold probabilities; ``gold``
    maps the gold items' ids to their known labels.
    """
    rng = np.random.default_rng(seed)
    summary = agreement(ratings, rng)
    if ratings.multilabel:
        return _analyse_multilabel(
            ratings, summary, features, gold, method, gold_threshold, gold_min_answers, rng
        )
    return _analyse_single(ratings, summary, features, gold, method, gold_threshold, gold_min_answers, rng)


def _analyse_single(
    ratings: ProjectRatings,
    summary: dict[str, Any],
    features: Callable[[list[int]], Any],  # (n, d): a dense array or a scipy CSR matrix
    gold: dict[int, Any],
    method: str,
    gold_threshold: float,
    gold_min_answers: int,
    rng: np.random.Generator,
) -> Analysis:
    values = ratings.matrix.values
    spec = ratings.spec
    categories = spec.codes
    k = len(categories)
    # The vote policy decides each item from its own votes (no class-frequency prior).
    decided = [votes.consensus(spec, item_votes) for item_votes in ratings.votes]
    codes = np.array([-1 if label is None else spec.code(str(label)) for label in decided], dtype=np.int64)
    majority = lq.consensus_from_labels(values, codes, k)
    X = features(ratings.item_ids)
    oof = lq.out_of_fold_where_trainable(X, majority.labels, k, rng=rng, n_folds=N_FOLDS)
    probs = oof.pred_probs
    crowd = None
    if np.sum(majority.n_ratings >= 2) >= MIN_MULTI_RATED:
        crowd = lq.crowdlab(values, probs, n_categories=k, tie_break=votes.tie_order(spec))
    chosen = crowd if (method == "crowdlab" and crowd is not None) else majority
    summary["consensus"] = {
        "method": chosen.method,
        "pred_probs_source": crowd.pred_probs_source if crowd is not None else "none",
        "mean_quality": num(np.nanmean(chosen.item_quality)),
    }

    def name(code: int) -> str | None:
        return categories[code] if code >= 0 else None

    consensus = [
        {
            "label": name(int(chosen.labels[i])),
            "quality": num(chosen.item_quality[i]),
            "majority_label": name(int(majority.labels[i])),
            "majority_quality": num(majority.item_quality[i]),
            "crowdlab_label": name(int(crowd.labels[i])) if crowd is not None else None,
            "crowdlab_quality": num(crowd.item_quality[i]) if crowd is not None else None,
            "n_annotations": int(chosen.n_ratings[i]),
        }
        for i in range(values.shape[0])
    ]
    issues: list[tuple[int, float, Any, Any]] = []
    if probs is None:
        summary["issues"] = {"skipped": oof.skipped}
    else:
        # Issues are judged on what the annotators said (their majority), not on CROWDLAB's
        # consensus, which already leans on the same model and would hide the disagreement.
        given = majority.labels
        preference = spec.task == "preference"
        found = lq.find_preference_issues(given, probs) if preference else lq.find_label_issues(given, probs)
        for pos in found.positions.tolist():
            issues.append(
                (pos, float(found.quality[pos]), name(int(given[pos])), name(int(np.argmax(probs[pos]))))
            )
        summary["issues"] = {"skipped": None, "n_flagged": len(issues)}
    code_of: dict[Any, int] = {c: n for n, c in enumerate(categories)}  # gold.get(i) may be None
    gold_codes = np.array([code_of.get(gold.get(i), np.nan) for i in ratings.item_ids], dtype=np.float64)
    report = _gold_report(values, gold_codes, k, gold_threshold, gold_min_answers)
    agreement_ = lq.annotator_agreement_with_consensus(values, k)
    rows = _annotator_rows(
        ratings,
        agreement_,
        chosen.annotator_agreement,
        crowd.annotator_quality if crowd is not None else None,
        report,
        values,
    )
    return Analysis(
        summary=summary,
        consensus=consensus,
        annotators=rows,
        issues=issues,
        issue_labels=[name(int(c)) for c in majority.labels],
    )


def _analyse_multilabel(
    ratings: ProjectRatings,
    summary: dict[str, Any],
    features: Callable[[list[int]], Any],  # (n, d): a dense array or a scipy CSR matrix
    gold: dict[int, Any],
    method: str,
    gold_threshold: float,
    gold_min_answers: int,
    rng: np.random.Generator,
) -> Analysis:
    values = ratings.matrix.values
    names = [str(n) for n in ratings.matrix.label_names]
    spec = ratings.spec
    decided = [votes.consensus(spec, item_votes) for item_votes in ratings.votes]
    labels = np.array(
        [[int(label is not None and name in label) for name in names] for label in decided], dtype=np.int64
    ).reshape(len(decided), len(names))
    majority = [lq.consensus_from_labels(values[:, :, j], labels[:, j], 2) for j in range(len(names))]
    probs = lq.out_of_fold_per_label(features(ratings.item_ids), labels, rng=rng, n_folds=N_FOLDS).pred_probs
    multi_rated = (~np.isnan(values[:, :, 0])).sum(axis=1) >= 2
    enough = multi_rated.sum() >= MIN_MULTI_RATED
    crowd = None
    if enough:
        order = votes.tie_order(spec)
        crowd = lq.multilabel_consensus(values, probs, method="crowdlab", crowdlab_tie_break=order)
    chosen = crowd if (method == "crowdlab" and crowd is not None) else majority
    chosen_labels = np.column_stack([c.labels for c in chosen]).clip(0, 1)

    def label_set(row: NDArray[np.int64]) -> list[str]:
        return [names[j] for j in np.flatnonzero(row)]

    def mean_quality(results: list[lq.ConsensusResult], i: int) -> float | None:
        return num(np.nanmean([r.item_quality[i] for r in results]))

    summary["consensus"] = {
        "method": chosen[0].method,
        "pred_probs_source": "caller" if crowd is not None else "none",
        "mean_quality": num(np.nanmean([mean_quality(chosen, i) or np.nan for i in range(values.shape[0])])),
    }
    consensus = [
        {
            "label": label_set(chosen_labels[i]),
            "quality": mean_quality(chosen, i),
            "majority_label": label_set(labels[i]),
            "majority_quality": mean_quality(majority, i),
            "crowdlab_label": label_set(np.column_stack([c.labels for c in crowd])[i].clip(0, 1))
            if crowd is not None
            else None,
            "crowdlab_quality": mean_quality(crowd, i) if crowd is not None else None,
            "n_annotations": int(majority[0].n_ratings[i]),
        }
        for i in range(values.shape[0])
    ]
    issues: list[tuple[int, float, Any, Any]] = []
    if not labels.any() or labels.all(axis=0).any():
        # cleanlab's one-vs-rest needs some tick, and no category ticked on every item.
        summary["issues"] = {"skipped": "too few labels per category for label issues"}
    else:
        found = lq.find_multilabel_issues(labels, probs)  # on the annotators' majority, as above
        issues = [
            (
                pos,
                float(found.items.quality[pos]),
                label_set(labels[pos]),
                label_set((probs[pos] >= 0.5).astype(int)),
            )
            for pos in found.items.positions.tolist()
        ]
        summary["issues"] = {"skipped": None, "n_flagged": len(issues)}
    gold_sets = np.full((values.shape[0], len(names)), np.nan)
    for i, item_id in enumerate(ratings.item_ids):
        if item_id in gold:
            gold_sets[i] = [float(n in (gold[item_id] or ())) for n in names]
    report = lq.label_set_gold_report(
        values, gold_sets, threshold=gold_threshold, min_answers=gold_min_answers
    )
    agreement_ = lq.annotator_agreement_with_consensus(_pooled(values), 2)
    crowd_quality = np.nanmean([c.annotator_quality for c in crowd], axis=0) if crowd is not None else None
    with_consensus = np.nanmean([c.annotator_agreement for c in chosen], axis=0)
    rows = _annotator_rows(ratings, agreement_, with_consensus, crowd_quality, report, values[:, :, 0])
    return Analysis(
        summary=summary,
        consensus=consensus,
        annotators=rows,
        issues=issues,
        issue_labels=[label_set(labels[i]) for i in range(values.shape[0])],
    )
