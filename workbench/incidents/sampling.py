"""The stratified sample of a feedback batch: strata are (report type, score bin), the sample is
split over them in proportion to their size (largest remainders, every non-empty stratum gets one
while the size allows), and drawn inside each stratum with an explicit ``numpy`` generator, so a
stored seed replays it. Pure: positions in, positions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench.errors import ValidationFailed


@dataclass(frozen=True)
class Stratum:
    report: str
    bin: int  # 0 .. bins-1
    low: float
    high: float
    size: int
    taken: int


def score_bin(score: float, bins: int) -> int:
    """Equal-width bins over [0, 1]; a score of 1.0 falls in the last."""
    return min(int(score * bins), bins - 1)


def stratified_sample(
    reports: Sequence[str], scores: Sequence[float], *, size: int, bins: int, rng: np.random.Generator
) -> tuple[list[int], list[Stratum]]:
    """Positions of the sample (sorted) and the strata it was drawn from, largest first."""
    if len(reports) != len(scores):
        raise ValidationFailed(f"reports ({len(reports)}) and scores ({len(scores)}) differ in length")
    if size < 1:
        raise ValidationFailed("size: at least 1.", extra={"fields": {"size": ["at least 1"]}})
    if not 1 <= bins <= 100:
        raise ValidationFailed("bins: 1 to 100.", extra={"fields": {"bins": ["1 to 100"]}})
    members: dict[tuple[str, int], list[int]] = {}
    for position, (report, score) in enumerate(zip(reports, scores, strict=True)):
        members.setdefault((report, score_bin(score, bins)), []).append(position)
    keys = sorted(members, key=lambda k: (-len(members[k]), k))
    total = len(reports)
    size = min(size, total)
    quota = _allocate([len(members[k]) for k in keys], size)
    chosen: list[int] = []
    strata: list[Stratum] = []
    for key, take in zip(keys, quota, strict=True):
        positions = members[key]
        if take:
            picked = rng.choice(len(positions), size=take, replace=False)
            chosen.extend(positions[int(i)] for i in picked)
        report, b = key
        strata.append(Stratum(report, b, b / bins, (b + 1) / bins, len(positions), take))
    return sorted(chosen), strata


def _allocate(sizes: list[int], size: int) -> list[int]:
    """Split ``size`` over strata of these sizes (largest first): one each while it lasts, the
    rest in proportion by largest remainder, never more than a stratum holds."""
    quota = [0] * len(sizes)
    for i in range(min(size, len(sizes))):
        quota[i] = 1
    left = size - sum(quota)
    total = sum(sizes)
    while left > 0:
        room = [s - q for s, q in zip(sizes, quota, strict=True)]
        want = [left * s / total for s in sizes]
        base = [min(int(w), r) for w, r in zip(want, room, strict=True)]
        if sum(base) == 0:
            order = sorted(range(len(sizes)), key=lambda i: (-(want[i] - int(want[i])), i))
            for i in order:
                if left and room[i]:
                    quota[i] += 1
                    left -= 1
            continue
        for i, b in enumerate(base):
            quota[i] += b
            left -= b
    return quota
