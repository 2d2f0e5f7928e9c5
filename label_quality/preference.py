"""Bias audits of preference labels: position bias per annotator, length bias of the chosen
response, agreement by length ratio, tie rates, and near-identical pairs.

Pure functions over arrays and strings. Proportions carry Wilson score intervals (they stay
inside [0, 1] and behave at 0 or n successes, where the normal approximation does not).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binomtest  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.proportion import proportion_confint

# Nominal false-alarm rate of the position-bias test per annotator.
POSITION_ALPHA = 0.05
# Length ratio bins (longer / shorter response, in characters) for agreement by length ratio.
LENGTH_RATIO_EDGES = (1.0, 1.25, 1.5, 2.0, 4.0)
NEAR_IDENTICAL_CHARS = 0.95  # difflib similarity at or above which two responses count as the same


@dataclass(frozen=True)
class Share:
    """A proportion ``k / n`` with its Wilson interval (NaN when ``n`` is 0)."""

    k: int
    n: int
    share: float
    ci_low: float
    ci_high: float


def wilson_share(k: int, n: int, *, confidence: float = 0.95) -> Share:
    """``k`` successes out of ``n`` with a Wilson score interval at ``confidence``."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Share(0, 0, math.nan, math.nan, math.nan)
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    share = k / n
    return Share(int(k), int(n), share, float(min(low, share)), float(max(high, share)))


@dataclass(frozen=True)
class PositionBias:
    """Per annotator (arrays of shape ``(n_annotators,)``): answers that picked a side
    (``n``, ties left out), how many picked the first-shown one, the rate with its Wilson
    interval, the two-sided exact binomial p-value against 1/2, and whether it is below
    ``alpha``."""

    n: NDArray[np.int64]
    n_first: NDArray[np.int64]
    rate: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    p_value: NDArray[np.float64]
    flagged: NDArray[np.bool_]
    alpha: float


def position_bias(n_first: ArrayLike, n: ArrayLike, *, alpha: float = POSITION_ALPHA) -> PositionBias:
    """Does an annotator pick the first-shown response more (or less) often than half the time?

    Args:
        n_first: ``(n_annotators,)`` answers that chose the first-shown response.
        n: ``(n_annotators,)`` answers that chose a side (first or second shown; not ties).
        alpha: the test's level: an honest annotator (whose choice does not depend on the
            position) is flagged with probability at most ``alpha``.
    """
    first = np.asarray(n_first, dtype=np.int64)
    total = np.asarray(n, dtype=np.int64)
    if first.ndim != 1 or first.shape != total.shape:
        raise ValueError(f"n_first and n must be 1-D of one length, got {first.shape} and {total.shape}")
    if (first < 0).any() or (first > total).any():
        raise ValueError("need 0 <= n_first <= n for every annotator")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    shares = [wilson_share(int(k), int(m)) for k, m in zip(first, total, strict=True)]
    p = np.array(
        [binomtest(int(k), int(m), 0.5).pvalue if m > 0 else 1.0 for k, m in zip(first, total, strict=True)],
        dtype=np.float64,
    )
    return PositionBias(
        n=total,
        n_first=first,
        rate=np.array([s.share for s in shares], dtype=np.float64),
        ci_low=np.array([s.ci_low for s in shares], dtype=np.float64),
        ci_high=np.array([s.ci_high for s in shares], dtype=np.float64),
        p_value=p,
        flagged=p < alpha,
        alpha=float(alpha),
    )


@dataclass(frozen=True)
class GroupShare:
    group: Hashable
    share: Share


def longer_chosen(
    chosen_lengths: ArrayLike, rejected_lengths: ArrayLike, *, groups: Sequence[Hashable] | None = None
) -> tuple[Share, list[GroupShare]]:
    """How often the chosen response is the longer one: overall and per group (sorted by the
    group's string form). Pairs of equal length are left out of ``n`` (neither is longer).

    Args:
        chosen_lengths, rejected_lengths: ``(n_pairs,)`` lengths (characters, tokens...).
        groups: ``n_pairs`` group keys (an annotator, a source split), or None.
    """
    chosen = np.asarray(chosen_lengths, dtype=np.float64)
    rejected = np.asarray(rejected_lengths, dtype=np.float64)
    if chosen.ndim != 1 or chosen.shape != rejected.shape:
        raise ValueError(f"lengths must be 1-D of one length, got {chosen.shape} and {rejected.shape}")
    if groups is not None and len(groups) != chosen.size:
        raise ValueError(f"groups has {len(groups)} entries for {chosen.size} pairs")
    decided = chosen != rejected
    longer = chosen > rejected
    overall = wilson_share(int(longer.sum()), int(decided.sum()))
    per_group: list[GroupShare] = []
    if groups is not None:
        keys = np.array([str(g) for g in groups], dtype=object)
        for key in sorted(set(keys.tolist())):
            mask = keys == key
            first = next(g for g, k in zip(groups, keys, strict=True) if k == key)
            per_group.append(
                GroupShare(first, wilson_share(int((longer & mask).sum()), int((decided & mask).sum())))
            )
    return overall, per_group


@dataclass(frozen=True)
class RatioBin:
    low: float
    high: float  # inf for the last bin
    n_items: int
    mean_agreement: float  # NaN when the bin is empty


def agreement_by_length_ratio(
    lengths_a: ArrayLike,
    lengths_b: ArrayLike,
    agreement: ArrayLike,
    *,
    edges: Sequence[float] = LENGTH_RATIO_EDGES,
) -> list[RatioBin]:
    """Mean per-item agreement within bins of the length ratio (longer / shorter; a pair with an
    empty response goes to the last bin). Annotators who vote on length agree more where the
    lengths differ most; a flat profile says length is not what drives the votes.

    Args:
        lengths_a, lengths_b: ``(n_items,)`` lengths of the two responses.
        agreement: ``(n_items,)`` per-item agreement (e.g. the share of the modal vote), NaN
            for items that are left out (a single vote).
        edges: increasing lower bin edges starting at 1; the last bin is open.
    """
    a = np.asarray(lengths_a, dtype=np.float64)
    b = np.asarray(lengths_b, dtype=np.float64)
    agree = np.asarray(agreement, dtype=np.float64)
    if not (a.ndim == 1 and a.shape == b.shape == agree.shape):
        raise ValueError(f"need three 1-D arrays of one length, got {a.shape}, {b.shape}, {agree.shape}")
    bounds = [float(e) for e in edges]
    if not bounds or bounds[0] != 1.0 or any(x >= y for x, y in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(f"edges must increase from 1.0, got {bounds}")
    longer, shorter = np.maximum(a, b), np.minimum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(shorter > 0, longer / np.where(shorter > 0, shorter, 1.0), np.inf)
    ratio = np.where((longer == 0) & (shorter == 0), 1.0, ratio)
    uppers = [*bounds[1:], math.inf]
    out = []
    for low, high in zip(bounds, uppers, strict=True):
        mask = (ratio >= low) & (ratio < high) & ~np.isnan(agree)
        if high == math.inf:
            mask |= np.isinf(ratio) & ~np.isnan(agree)
        n_items = int(mask.sum())
        out.append(RatioBin(low, high, n_items, float(agree[mask].mean()) if n_items else math.nan))
    return out


_SPACE = re.compile(r"\s+")


def normalized_text(text: str) -> str:
    """Whitespace runs as one space, ends stripped: what "the same text" means here."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class NearIdentical:
    position: int
    reason: str  # "equal text", "character similarity 0.97", "embedding cosine 0.99"
    similarity: float


def near_identical_pairs(
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    *,
    char_threshold: float = NEAR_IDENTICAL_CHARS,
    embeddings: tuple[NDArray[np.floating], NDArray[np.floating]] | None = None,
    cosine_threshold: float = 0.98,
) -> list[NearIdentical]:
    """Pairs whose two responses are (nearly) the same, which no annotator can honestly rank:
    equal after whitespace normalisation, a character similarity (``difflib`` ratio) at or
    above ``char_threshold``, or, given ``(n, d)`` embeddings of both sides, a cosine at or above
    ``cosine_threshold``. Returned in position order, one entry per flagged pair."""
    if len(texts_a) != len(texts_b):
        raise ValueError(f"{len(texts_a)} first responses for {len(texts_b)} second ones")
    cosines: NDArray[np.float64] | None = None
    if embeddings is not None:
        ea, eb = (np.asarray(e, dtype=np.float64) for e in embeddings)
        if ea.shape != eb.shape or ea.ndim != 2 or ea.shape[0] != len(texts_a):
            raise ValueError(
                f"embeddings must be two (n, d) arrays for n={len(texts_a)}, got {ea.shape}, {eb.shape}"
            )
        norms = np.linalg.norm(ea, axis=1) * np.linalg.norm(eb, axis=1)
        cosines = np.where(norms > 0, (ea * eb).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)
    found = []
    for i, (a, b) in enumerate(zip(texts_a, texts_b, strict=True)):
        na, nb = normalized_text(a), normalized_text(b)
        if na == nb:
            found.append(NearIdentical(i, "equal text", 1.0))
            continue
        matcher = difflib.SequenceMatcher(None, na, nb, autojunk=False)
        # real_quick_ratio and quick_ratio are cheap upper bounds: most pairs stop there.
        if matcher.real_quick_ratio() >= char_threshold and matcher.quick_ratio() >= char_threshold:
            ratio = matcher.ratio()
            if ratio >= char_threshold:
                found.append(NearIdentical(i, f"character similarity {ratio:.2f}", ratio))
                continue
        if cosines is not None and cosines[i] >= cosine_threshold:
            found.append(NearIdentical(i, f"embedding cosine {cosines[i]:.2f}", float(cosines[i])))
    return found
