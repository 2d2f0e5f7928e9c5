"""Label-side audit (no model): per identity group, label prevalence, agreement, annotator bias.

Ratings are an ``(n_items, n_annotators)`` float matrix of 0/1 (1 = toxic), NaN = not rated.

Annotator bias is tested per (annotator, group). ``method="peer"`` (default) compares the
annotator with the other annotators of the same items, so that a group whose mentions really are
more often toxic does not make every honest annotator look biased:

* ``over``: among items the peers call non-toxic (peer mean < 0.5), the annotator's toxic rate on
  mentions of the group against the same rate on the other items;
* ``under``: among items the peers call toxic (peer mean > 0.5), the annotator's non-toxic rate on
  mentions against other items.

``method="raw"`` tests the annotator's toxic rate on mentions against their rate on the other
items directly (the comparison one would try first; it confounds bias with the group's real
prevalence -- see ``bench/audit_annotator_bias.py``). Each test is a one-sided Fisher exact test
(``raw``: two-sided); p-values are corrected over all tests of the audit with Benjamini-Hochberg.
A test is flagged when its q-value is at most ``fdr`` and the rate difference at least
``min_effect``. The raw toxic rates are always reported as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import numpy.typing as npt
from scipy.stats import (  # type: ignore[import-untyped, unused-ignore]
    false_discovery_control,
    fisher_exact,
)

from audits._validation import BoolArray, FloatArray, as_scores, check_fraction, check_positive_int
from audits.identity import GroupAssignment, masks_of
from audits.results import Estimate, InsufficientData, MetricResult

Method = Literal["peer", "raw"]
Direction = Literal["over", "under", "raw"]


def _as_binary_ratings(ratings: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(ratings, dtype=np.float64)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(
            f"ratings must be a non-empty 2-D (n_items, n_annotators) array; got shape {arr.shape}"
        )
    observed = arr[~np.isnan(arr)]
    if not np.isin(observed, (0.0, 1.0)).all():
        raise ValueError(f"ratings of shape {arr.shape} must hold 0, 1 or NaN (missing)")
    return arr


@dataclass(frozen=True)
class GroupLabelStats:
    """One group: items, ratings, prevalence (ratings; consensus labels when given), Krippendorff's α."""

    group: str
    n_items: int
    n_ratings: int
    rating_prevalence: float
    label_prevalence: float | None
    alpha: MetricResult


@dataclass(frozen=True)
class AnnotatorGroupTest:
    """Evidence of one (annotator, group, direction) test.

    ``k_group`` of ``n_group`` (and ``k_other`` of ``n_other``) are the counts of the tested table
    (see the module docstring); ``raw_*`` are the annotator's plain toxic rates on mentions of the
    group and on all other items they rated.
    """

    annotator: str
    group: str
    direction: Direction
    k_group: int
    n_group: int
    k_other: int
    n_other: int
    rate_group: float
    rate_other: float
    raw_toxic_group: int
    raw_n_group: int
    raw_toxic_other: int
    raw_n_other: int
    p_value: float
    q_value: float
    flagged: bool

    @property
    def raw_rate_group(self) -> float:
        return self.raw_toxic_group / self.raw_n_group if self.raw_n_group else float("nan")

    @property
    def raw_rate_other(self) -> float:
        return self.raw_toxic_other / self.raw_n_other if self.raw_n_other else float("nan")


@dataclass(frozen=True)
class LabelAuditReport:
    """Per-group statistics, every test run (``tests``), the flagged ones and the untested pairs."""

    groups: tuple[GroupLabelStats, ...]
    overall_alpha: MetricResult
    tests: tuple[AnnotatorGroupTest, ...]
    untested: tuple[InsufficientData, ...]
    method: Method
    fdr: float
    min_effect: float
    min_items: int

    @property
    def flagged(self) -> tuple[AnnotatorGroupTest, ...]:
        return tuple(t for t in self.tests if t.flagged)


def _alpha(ratings: FloatArray, min_items: int, metric: str) -> MetricResult:
    multi = ratings[np.sum(~np.isnan(ratings), axis=1) >= 2]
    if multi.shape[0] < min_items:
        return InsufficientData(
            metric,
            min_items,
            {"items_with_two_ratings": int(multi.shape[0])},
            f"Krippendorff's alpha needs at least {min_items} items rated twice",
        )
    observed = np.unique(multi[~np.isnan(multi)])
    if observed.size < 2:
        return InsufficientData(
            metric,
            min_items,
            {"items_with_two_ratings": int(multi.shape[0]), "distinct_values": int(observed.size)},
            "every rating has the same value: alpha is undefined",
        )
    value = krippendorff.alpha(reliability_data=multi.T, level_of_measurement="nominal")
    return Estimate(float(value))


def label_audit(
    ratings: npt.ArrayLike,
    groups: GroupAssignment | Mapping[str, npt.ArrayLike],
    *,
    annotators: Sequence[str] | None = None,
    labels: npt.ArrayLike | None = None,
    method: Method = "peer",
    fdr: float = 0.05,
    min_effect: float = 0.2,
    min_items: int = 10,
) -> LabelAuditReport:
    """Audit the labels of each identity group and each annotator's rate on its mentions.

    Args:
        ratings: ``(n_items, n_annotators)`` 0/1/NaN.
        groups: a :class:`GroupAssignment` or ``{group: (n_items,) bool mask}``.
        annotators: names of the ``n_annotators`` columns (default ``"0"``, ``"1"``, ...).
        labels: optional ``(n_items,)`` consensus labels (0/1, NaN = none) for label prevalence;
            the consensus rule is the caller's (the workbench's vote policy), not this module's.
        method: ``"peer"`` or ``"raw"`` (module docstring).
        fdr: Benjamini-Hochberg false-discovery rate for flagging.
        min_effect: smallest rate difference that is flagged.
        min_items: items a group (for α) or a table side (for a test) must have; fewer are reported
            as untested with their counts.
    """
    r = _as_binary_ratings(ratings)
    n_items, n_annotators = r.shape
    masks = masks_of(groups, n_items)
    if method not in ("peer", "raw"):
        raise ValueError(f"method must be 'peer' or 'raw'; got {method!r}")
    check_fraction(fdr, "fdr")
    check_fraction(min_effect, "min_effect", open_interval=False)
    check_positive_int(min_items, "min_items")
    names = [str(i) for i in range(n_annotators)] if annotators is None else [str(a) for a in annotators]
    if len(names) != n_annotators:
        raise ValueError(f"annotators has {len(names)} names but ratings has shape {r.shape}")
    if len(set(names)) != len(names):
        raise ValueError("annotators must be distinct names")
    consensus: FloatArray | None = None
    if labels is not None:
        consensus = np.asarray(labels, dtype=np.float64)
        if consensus.shape != (n_items,):
            raise ValueError(f"labels has shape {consensus.shape} but ratings has {n_items} items")
        seen = consensus[~np.isnan(consensus)]
        if not np.isin(seen, (0.0, 1.0)).all():
            raise ValueError("labels must hold 0, 1 or NaN")

    group_stats = []
    for g, m in masks.items():
        sub = r[m]
        rated = sub[~np.isnan(sub)]
        label_prev: float | None = None
        if consensus is not None:
            got = consensus[m][~np.isnan(consensus[m])]
            label_prev = float(got.mean()) if got.size else float("nan")
        group_stats.append(
            GroupLabelStats(
                group=g,
                n_items=int(m.sum()),
                n_ratings=int(rated.size),
                rating_prevalence=float(rated.mean()) if rated.size else float("nan"),
                label_prevalence=label_prev,
                alpha=_alpha(sub, min_items, f"alpha[{g}]"),
            )
        )

    present = ~np.isnan(r)
    totals = np.nansum(r, axis=1)
    counts = present.sum(axis=1)
    raw_tables: list[tuple[str, str, Direction, int, int, int, int, tuple[int, int, int, int]]] = []
    untested: list[InsufficientData] = []
    for j, name in enumerate(names):
        mine = present[:, j]
        own = np.nan_to_num(r[:, j])
        peer_n = counts - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            peer_mean = np.where(peer_n > 0, (totals - own) / np.maximum(peer_n, 1), np.nan)
        for g, m in masks.items():
            raw = (
                int(own[mine & m].sum()),
                int((mine & m).sum()),
                int(own[mine & ~m].sum()),
                int((mine & ~m).sum()),
            )
            if method == "raw":
                sides: list[tuple[Direction, BoolArray, FloatArray]] = [("raw", mine, own)]
            else:
                with np.errstate(invalid="ignore"):
                    sides = [
                        ("over", mine & (peer_mean < 0.5), own),
                        ("under", mine & (peer_mean > 0.5), 1.0 - own),
                    ]
            for direction, base, outcome in sides:
                n_g, n_o = int((base & m).sum()), int((base & ~m).sum())
                k_g, k_o = int(outcome[base & m].sum()), int(outcome[base & ~m].sum())
                if n_g < min_items or n_o < min_items:
                    untested.append(
                        InsufficientData(
                            f"{name}/{g}/{direction}",
                            min_items,
                            {"group_items": n_g, "other_items": n_o},
                            f"needs at least {min_items} items on each side of the table",
                        )
                    )
                    continue
                raw_tables.append((name, g, direction, k_g, n_g, k_o, n_o, raw))

    p_values = []
    for _name, _g, direction, k_g, n_g, k_o, n_o, _raw in raw_tables:
        table = [[k_g, n_g - k_g], [k_o, n_o - k_o]]
        alternative = "two-sided" if direction == "raw" else "greater"
        p_values.append(float(fisher_exact(table, alternative=alternative).pvalue))
    q_values = (
        as_scores(false_discovery_control(np.asarray(p_values), method="bh"), name="q")
        if p_values
        else np.zeros(0)
    )
    tests = []
    for (name, g, direction, k_g, n_g, k_o, n_o, raw), p, q in zip(
        raw_tables, p_values, q_values, strict=True
    ):
        rate_g, rate_o = k_g / n_g, k_o / n_o
        effect = abs(rate_g - rate_o) if direction == "raw" else rate_g - rate_o
        tests.append(
            AnnotatorGroupTest(
                annotator=name,
                group=g,
                direction=direction,
                k_group=k_g,
                n_group=n_g,
                k_other=k_o,
                n_other=n_o,
                rate_group=rate_g,
                rate_other=rate_o,
                raw_toxic_group=raw[0],
                raw_n_group=raw[1],
                raw_toxic_other=raw[2],
                raw_n_other=raw[3],
                p_value=p,
                q_value=float(q),
                flagged=bool(q <= fdr and effect >= min_effect),
            )
        )
    return LabelAuditReport(
        groups=tuple(group_stats),
        overall_alpha=_alpha(r, min_items, "alpha"),
        tests=tuple(tests),
        untested=tuple(untested),
        method=method,
        fdr=fdr,
        min_effect=min_effect,
        min_items=min_items,
    )
