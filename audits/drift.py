"""Drift between two samples (two import batches, a batch and a release, two releases).

* Inputs: a classifier two-sample test -- logistic regression learns to tell side A from side B
  on the items' features (embeddings or hashed text features); its cross-validated AUC is 0.5
  when the sides are indistinguishable. The p-value is the Mann-Whitney normal approximation
  under "no difference" (or a permutation null when ``n_permutations`` > 0), the interval a
  bootstrap of the out-of-fold scores. The items the classifier is surest about are the ones
  that most distinguish the sides.
* Text length: two-sample Kolmogorov-Smirnov test.
* Identity-group rates: share of items mentioning each group, chi-square per group,
  Benjamini-Hochberg over groups.
* Labels: class prevalence, chi-square test of the 2 x K table.

Every shift needs both significance (p < ``alpha``) and a minimum effect, because at 100k items
per side trivial differences are significant; the thresholds come back with the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]
from scipy.stats import (  # type: ignore[import-untyped, unused-ignore]
    chi2_contingency,
    false_discovery_control,
    ks_2samp,
    norm,
)
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, unused-ignore]

from audits._auc import auc as _auc
from audits._validation import (
    BoolArray,
    FloatArray,
    as_class_codes,
    as_group_masks,
    as_scores,
    check_positive_int,
    check_rng,
)
from audits.results import Interval

NO_SHIFT = "no shift"
INPUTS_SHIFTED = "inputs shifted"
LABELS_SHIFTED = "labels shifted"
BOTH_SHIFTED = "inputs and labels shifted"


@dataclass(frozen=True)
class DriftThresholds:
    """What counts as a shift: p below ``alpha`` and the effect at least the floor."""

    alpha: float = 0.01
    classifier_auc: float = 0.6
    length_ks: float = 0.1
    group_rate_diff: float = 0.05
    label_prevalence_diff: float = 0.05


@dataclass(frozen=True)
class ClassifierTest:
    """Cross-validated AUC of telling B from A, its null p-value and the most distinctive items.

    ``most_a`` / ``most_b``: positions into side A / side B of the items most confidently assigned
    to their own side, most confident first.
    """

    auc: float
    interval: Interval | None
    p_value: float
    null: str
    n_folds: int
    n_a: int
    n_b: int
    most_a: tuple[int, ...]
    most_b: tuple[int, ...]


@dataclass(frozen=True)
class LengthShift:
    ks_statistic: float
    p_value: float
    median_a: float
    median_b: float


@dataclass(frozen=True)
class GroupRateShift:
    group: str
    rate_a: float
    rate_b: float
    p_value: float
    q_value: float


@dataclass(frozen=True)
class LabelShift:
    classes: tuple[int, ...]
    prevalence_a: tuple[float, ...]
    prevalence_b: tuple[float, ...]
    max_diff: float
    chi2: float
    p_value: float


@dataclass(frozen=True)
class DriftReport:
    """The tests that ran, the verdict in words and why (``reasons``), and the thresholds used."""

    classifier: ClassifierTest
    length: LengthShift | None
    groups: tuple[GroupRateShift, ...]
    labels: LabelShift | None
    verdict: str
    reasons: tuple[str, ...]
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)


def _as_features(x: Any, name: str) -> Any:
    if sp.issparse(x):
        mat = sp.csr_matrix(x)
    else:
        mat = np.asarray(x, dtype=np.float64)
        if mat.ndim == 2 and not np.isfinite(mat).all():
            raise ValueError(f"{name} of shape {mat.shape} holds non-finite values")
    if mat.ndim != 2 or mat.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (n_items, n_features) array; got shape {mat.shape}")
    return mat


def _stack(a: Any, b: Any) -> Any:
    if sp.issparse(a) or sp.issparse(b):
        return sp.vstack([sp.csr_matrix(a), sp.csr_matrix(b)]).tocsr()
    return np.vstack([a, b])


def _oof_scores(x: Any, side: npt.NDArray[np.int64], n_folds: int, seed: int, c: float) -> FloatArray:
    scores = np.zeros(side.shape[0], dtype=np.float64)
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    # liblinear on sparse text features: scipy's L-BFGS-B spends most of its time in its own
    # bookkeeping over 2**18 coefficients (measured ~4x slower here); lbfgs on dense embeddings.
    solver = "liblinear" if sp.issparse(x) else "lbfgs"
    for train, test in folds.split(np.zeros(side.shape[0]), side):
        model = LogisticRegression(C=c, max_iter=1000, solver=solver)
        model.fit(x[train], side[train])
        scores[test] = model.decision_function(x[test])
    return scores


def classifier_two_sample_test(
    features_a: Any,
    features_b: Any,
    *,
    rng: np.random.Generator,
    n_folds: int = 5,
    n_resamples: int = 200,
    n_permutations: int = 0,
    top_k: int = 10,
    c: float = 1.0,
    level: float = 0.95,
) -> ClassifierTest:
    """Cross-validated logistic-regression AUC of side B against side A.

    ``features_a`` ``(n_a, d)`` and ``features_b`` ``(n_b, d)``: dense arrays or scipy sparse
    matrices with the same ``d``. ``n_permutations`` > 0 refits the whole cross-validation that
    many times with shuffled sides for an exact-in-distribution null (slow on large inputs).
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a has shape {a.shape} but features_b has shape {b.shape}: feature counts differ"
        )
    check_rng(rng)
    check_positive_int(n_folds, "n_folds", minimum=2)
    check_positive_int(n_resamples, "n_resamples", minimum=0)
    check_positive_int(n_permutations, "n_permutations", minimum=0)
    check_positive_int(top_k, "top_k", minimum=0)
    n_a, n_b = int(a.shape[0]), int(b.shape[0])
    if min(n_a, n_b) < n_folds:
        raise ValueError(f"each side needs at least n_folds={n_folds} items; got {n_a} and {n_b}")
    x = _stack(a, b)
    side = np.concatenate([np.zeros(n_a, dtype=np.int64), np.ones(n_b, dtype=np.int64)])
    seed = int(rng.integers(0, 2**31 - 1))
    scores = _oof_scores(x, side, n_folds, seed, c)
    value = _auc(scores[n_a:], scores[:n_a])
    if n_permutations:
        null_aucs = []
        for _ in range(n_permutations):
            perm = rng.permutation(side)
            perm_scores = _oof_scores(x, perm, n_folds, int(rng.integers(0, 2**31 - 1)), c)
            null_aucs.append(_auc(perm_scores[perm == 1], perm_scores[perm == 0]))
        p_value = (1 + sum(v >= value for v in null_aucs)) / (1 + n_permutations)
        null = f"permutation ({n_permutations} refits with shuffled sides)"
    else:
        sd = np.sqrt((n_a + n_b + 1) / (12.0 * n_a * n_b))
        p_value = float(norm.sf((value - 0.5) / sd))
        null = "Mann-Whitney normal approximation (one-sided, AUC > 0.5)"
    interval = None
    if n_resamples:
        boot = np.empty(n_resamples)
        sa, sb = scores[:n_a], scores[n_a:]
        for r in range(n_resamples):
            boot[r] = _auc(sb[rng.integers(0, n_b, n_b)], sa[rng.integers(0, n_a, n_a)])
        tail = (1.0 - level) / 2.0 * 100.0
        low, high = np.percentile(boot, [tail, 100.0 - tail])
        interval = Interval(float(low), float(high), level, n_resamples, n_resamples)
    most_a = tuple(int(i) for i in np.argsort(scores[:n_a], kind="stable")[:top_k])
    most_b = tuple(int(i) for i in np.argsort(-scores[n_a:], kind="stable")[:top_k])
    return ClassifierTest(value, interval, float(p_value), null, n_folds, n_a, n_b, most_a, most_b)


def _length_shift(lengths_a: npt.ArrayLike, lengths_b: npt.ArrayLike, n_a: int, n_b: int) -> LengthShift:
    la = as_scores(lengths_a, name="lengths_a", n_items=n_a)
    lb = as_scores(lengths_b, name="lengths_b", n_items=n_b)
    res = ks_2samp(la, lb)
    return LengthShift(float(res.statistic), float(res.pvalue), float(np.median(la)), float(np.median(lb)))


def _group_shifts(
    groups_a: Mapping[str, BoolArray], groups_b: Mapping[str, BoolArray], n_a: int, n_b: int
) -> tuple[GroupRateShift, ...]:
    names = sorted(set(groups_a) | set(groups_b))
    rows = []
    for g in names:
        k_a = int(groups_a[g].sum()) if g in groups_a else 0
        k_b = int(groups_b[g].sum()) if g in groups_b else 0
        if k_a + k_b == 0 or k_a + k_b == n_a + n_b:
            p = 1.0
        else:
            p = float(chi2_contingency([[k_a, n_a - k_a], [k_b, n_b - k_b]]).pvalue)
        rows.append((g, k_a / n_a, k_b / n_b, p))
    if not rows:
        return ()
    q = false_discovery_control(np.asarray([r[3] for r in rows]), method="bh")
    return tuple(GroupRateShift(g, ra, rb, p, float(qv)) for (g, ra, rb, p), qv in zip(rows, q, strict=True))


def _label_shift(labels_a: npt.ArrayLike, labels_b: npt.ArrayLike, n_a: int, n_b: int) -> LabelShift:
    ya = as_class_codes(labels_a, name="labels_a", n_items=n_a)
    yb = as_class_codes(labels_b, name="labels_b", n_items=n_b)
    classes = tuple(int(c) for c in np.union1d(ya, yb))
    table = np.array([[int((y == c).sum()) for c in classes] for y in (ya, yb)])
    prev_a = table[0] / table[0].sum()
    prev_b = table[1] / table[1].sum()
    if len(classes) < 2:
        chi2, p = 0.0, 1.0
    else:
        res = chi2_contingency(table)
        chi2, p = float(res.statistic), float(res.pvalue)
    return LabelShift(
        classes,
        tuple(float(v) for v in prev_a),
        tuple(float(v) for v in prev_b),
        float(np.abs(prev_a - prev_b).max()),
        chi2,
        p,
    )


def drift_report(
    features_a: Any,
    features_b: Any,
    *,
    rng: np.random.Generator,
    labels_a: npt.ArrayLike | None = None,
    labels_b: npt.ArrayLike | None = None,
    lengths_a: npt.ArrayLike | None = None,
    lengths_b: npt.ArrayLike | None = None,
    groups_a: Mapping[str, npt.ArrayLike] | None = None,
    groups_b: Mapping[str, npt.ArrayLike] | None = None,
    thresholds: DriftThresholds | None = None,
    n_folds: int = 5,
    n_resamples: int = 200,
    n_permutations: int = 0,
    top_k: int = 10,
) -> DriftReport:
    """All drift tests between side A and side B, and the verdict.

    ``labels_*``: ``(n,)`` integer class codes; ``lengths_*``: ``(n,)`` text lengths;
    ``groups_*``: ``{group: (n,) bool}`` (e.g. ``GroupAssignment.masks()``). Each optional pair is
    tested only when both sides are given (one without the other raises ``ValueError``).
    """
    th = thresholds if thresholds is not None else DriftThresholds()
    clf = classifier_two_sample_test(
        features_a,
        features_b,
        rng=rng,
        n_folds=n_folds,
        n_resamples=n_resamples,
        n_permutations=n_permutations,
        top_k=top_k,
    )
    for what, left, right in (
        ("labels", labels_a, labels_b),
        ("lengths", lengths_a, lengths_b),
        ("groups", groups_a, groups_b),
    ):
        if (left is None) != (right is None):
            raise ValueError(f"{what}_a and {what}_b must both be given or both be left out")
    reasons: list[str] = []
    inputs = False
    if clf.auc >= th.classifier_auc and clf.p_value < th.alpha:
        inputs = True
        reasons.append(
            f"a classifier tells the sides apart: AUC {clf.auc:.3f} >= {th.classifier_auc} "
            f"(p {clf.p_value:.2g})"
        )
    length = None
    if lengths_a is not None and lengths_b is not None:
        length = _length_shift(lengths_a, lengths_b, clf.n_a, clf.n_b)
        if length.ks_statistic >= th.length_ks and length.p_value < th.alpha:
            inputs = True
            reasons.append(
                f"text length changed: KS {length.ks_statistic:.3f} >= {th.length_ks} (median "
                f"{length.median_a:g} -> {length.median_b:g})"
            )
    group_rows: tuple[GroupRateShift, ...] = ()
    if groups_a is not None and groups_b is not None:
        ga = as_group_masks(groups_a, n_items=clf.n_a, name="groups_a")
        gb = as_group_masks(groups_b, n_items=clf.n_b, name="groups_b")
        group_rows = _group_shifts(ga, gb, clf.n_a, clf.n_b)
        for row in group_rows:
            if abs(row.rate_b - row.rate_a) >= th.group_rate_diff and row.q_value < th.alpha:
                inputs = True
                reasons.append(
                    f"share of items mentioning {row.group} changed: {row.rate_a:.3f} -> {row.rate_b:.3f}"
                )
    label = None
    labels_moved = False
    if labels_a is not None and labels_b is not None:
        label = _label_shift(labels_a, labels_b, clf.n_a, clf.n_b)
        if label.max_diff >= th.label_prevalence_diff and label.p_value < th.alpha:
            labels_moved = True
            reasons.append(
                f"label prevalence changed by up to {label.max_diff:.3f} >= {th.label_prevalence_diff} "
                f"(chi-square p {label.p_value:.2g})"
            )
    verdict = {
        (False, False): NO_SHIFT,
        (True, False): INPUTS_SHIFTED,
        (False, True): LABELS_SHIFTED,
        (True, True): BOTH_SHIFTED,
    }[(inputs, labels_moved)]
    if not reasons:
        reasons.append(f"no test passed its threshold (alpha {th.alpha}); classifier AUC {clf.auc:.3f}")
    return DriftReport(clf, length, group_rows, label, verdict, tuple(reasons), th)
