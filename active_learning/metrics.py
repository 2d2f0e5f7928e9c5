"""Validation metrics and cost-based decision thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score  # type: ignore[import-untyped,unused-ignore]

from .errors import InvalidInputError
from .validation import check_same_rows, shape_of


def _binary_inputs(y_true: Any, p_pos: Any) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    y = np.asarray(y_true)
    p = np.asarray(p_pos, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1:
        raise InvalidInputError(f"y_true and p_pos must be 1-D (n,); got {shape_of(y)} and {shape_of(p)}")
    check_same_rows(y, p, "y_true", "p_pos")
    if not np.isin(y, (0, 1)).all():
        raise InvalidInputError("y_true must hold 0/1 labels")
    return y.astype(np.int64), p


def binary_metrics(y_true: Any, p_pos: Any, threshold: float = 0.5) -> dict[str, float]:
    """F1 / precision / recall at ``threshold`` and PR-AUC (average precision).

    y_true (n,) 0/1, p_pos (n,) P(positive). PR-AUC is NaN when y_true has no positive.
    """
    y, p = _binary_inputs(y_true, p_pos)
    pred = (p >= threshold).astype(np.int64)
    pr_auc = float(average_precision_score(y, p)) if y.any() else float("nan")
    return {
        "f1": float(f1_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "pr_auc": pr_auc,
        "positives": float(y.sum()),
    }


def multilabel_metrics(
    Y_true: Any, P: Any, label_names: list[str] | None = None, threshold: float = 0.5
) -> dict[str, float]:
    """Per-label ``f1/<label>``, ``pr_auc/<label>`` plus ``macro_f1`` and ``macro_pr_auc`` (NaN-aware).

    Y_true (n, L) 0/1, P (n, L) per-label probabilities.
    """
    Y = np.asarray(Y_true)
    Pa = np.asarray(P, dtype=np.float64)
    if Y.ndim != 2 or Y.shape != Pa.shape:
        raise InvalidInputError(
            f"Y_true and P must have the same (n, L) shape; got {shape_of(Y)} and {shape_of(Pa)}"
        )
    names = label_names or [str(j) for j in range(Y.shape[1])]
    if len(names) != Y.shape[1]:
        raise InvalidInputError(f"{len(names)} label names for {Y.shape[1]} labels")
    out: dict[str, float] = {}
    f1s, aucs = [], []
    for j, name in enumerate(names):
        m = binary_metrics(Y[:, j], Pa[:, j], threshold)
        out[f"f1/{name}"] = m["f1"]
        out[f"pr_auc/{name}"] = m["pr_auc"]
        f1s.append(m["f1"])
        aucs.append(m["pr_auc"])
    out["macro_f1"] = float(np.mean(f1s))
    out["macro_pr_auc"] = float(np.nanmean(aucs)) if not np.all(np.isnan(aucs)) else float("nan")
    return out


def preference_metrics(y_true: Any, p_a: Any) -> dict[str, float]:
    """Accuracy of P(A preferred) >= 0.5 on non-tied pairs, plus log loss on all pairs.

    y_true (n,) in {0, 0.5, 1} (1 = A preferred), p_a (n,).
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.clip(np.asarray(p_a, dtype=np.float64), 1e-12, 1 - 1e-12)
    if y.ndim != 1 or p.ndim != 1:
        raise InvalidInputError(f"y_true and p_a must be 1-D (n,); got {shape_of(y)} and {shape_of(p)}")
    check_same_rows(y, p, "y_true", "p_a")
    decided = y != 0.5
    acc = float(np.mean((p[decided] >= 0.5) == (y[decided] == 1.0))) if decided.any() else float("nan")
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return {"accuracy": acc, "log_loss": log_loss, "pairs": float(y.shape[0])}


@dataclass(frozen=True)
class ThresholdChoice:
    """Decision threshold minimising ``cost_fp * FP + cost_fn * FN`` on a validation slice."""

    threshold: float
    expected_cost: float  # per item
    precision: float
    recall: float
    cost_fp: float
    cost_fn: float


def choose_threshold(
    y_true: Any, p_pos: Any, *, cost_fp: float = 1.0, cost_fn: float = 1.0
) -> ThresholdChoice:
    """Threshold on P(positive) that minimises the stated cost on (y_true (n,), p_pos (n,)).

    Predict positive when ``p >= threshold``. Every distinct score is tried (vectorised), plus
    "never positive"; the chosen threshold is the midpoint between adjacent scores so it
    generalises rather than sitting on a validation item. With calibrated probabilities the
    optimum is near ``cost_fp / (cost_fp + cost_fn)``.
    """
    if cost_fp < 0 or cost_fn < 0 or cost_fp + cost_fn == 0:
        raise InvalidInputError(
            f"costs must be >= 0 and not both 0; got cost_fp={cost_fp}, cost_fn={cost_fn}"
        )
    y, p = _binary_inputs(y_true, p_pos)
    if y.shape[0] == 0:
        raise InvalidInputError("choose_threshold needs at least one validation item")
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(1 - ys)
    # Only cut between distinct scores: index i means "positive for the first i+1 items".
    last_of_run = np.r_[ps[1:] != ps[:-1], True]
    tp_c = np.r_[0, tp[last_of_run]]
    fp_c = np.r_[0, fp[last_of_run]]
    fn_c = y.sum() - tp_c
    cost = cost_fp * fp_c + cost_fn * fn_c
    best = int(np.argmin(cost))
    cut_scores = np.r_[np.inf, ps[last_of_run]]
    if best == 0:
        threshold = float(np.nextafter(ps[0], np.inf))
    else:
        below = ps[ps < cut_scores[best]]
        threshold = float((cut_scores[best] + below[0]) / 2) if below.size else float(cut_scores[best])
    tp_b, fp_b = float(tp_c[best]), float(fp_c[best])
    return ThresholdChoice(
        threshold=threshold,
        expected_cost=float(cost[best] / y.shape[0]),
        precision=tp_b / (tp_b + fp_b) if tp_b + fp_b else 0.0,
        recall=tp_b / float(y.sum()) if y.sum() else 0.0,
        cost_fp=float(cost_fp),
        cost_fn=float(cost_fn),
    )
