"""Shared helpers of the bench/audit_*.py scripts (data paths, text features, table printing)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"

FEATURES_NOTE = (
    "features: hashed word 1-2 grams (sklearn HashingVectorizer) + TF-IDF weighting, not MiniLM: the "
    "packaged all-MiniLM-L6-v2 embedded 13 Jigsaw comments/s on this shared 2-core CPU (measured at load "
    "4.6), hours for these benches."
)


def hashed_counts(texts: Sequence[str], n_features: int = 2**18) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=n_features, ngram_range=(1, 2), alternate_sign=False, norm=None
    ).transform(list(texts))


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in header], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def machine_load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "uptime unavailable"
