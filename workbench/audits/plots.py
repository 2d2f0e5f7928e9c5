"""Server-side SVG of a round's per-group AUCs with their bootstrap intervals."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure

METRICS = (
    ("subgroup_auc", "subgroup", "#3b6ea8"),
    ("bpsn_auc", "BPSN", "#d1843b"),
    ("bnsp_auc", "BNSP", "#4f9a5a"),
)


def group_aucs_svg(report: dict[str, Any]) -> bytes:
    """One row per identity group, a point per bias AUC with its interval; "too few" groups get
    no point (the table says why)."""
    rows = report["groups"]
    fig = Figure(figsize=(7, max(2.0, 0.45 * len(rows) + 1.2)))
    ax = fig.subplots()
    if not rows:
        ax.text(0.5, 0.5, "No identity group in the validation slice", ha="center", va="center")
        ax.set_axis_off()
    for k, (metric, title, color) in enumerate(METRICS):
        ys, xs, lows, highs = [], [], [], []
        for i, row in enumerate(rows):
            cell = row[metric]
            if cell["value"] is None:
                continue
            ys.append(i + (k - 1) * 0.22)
            xs.append(cell["value"])
            lows.append(cell["value"] - (cell["low"] if cell["low"] is not None else cell["value"]))
            highs.append((cell["high"] if cell["high"] is not None else cell["value"]) - cell["value"])
        if xs:
            ax.errorbar(xs, ys, xerr=[lows, highs], fmt="o", color=color, capsize=3, label=title)
    if rows:
        ax.set_yticks(range(len(rows)), [r["group"] for r in rows])
        ax.axvline(0.5, color="#999", linestyle=":", linewidth=1)
        ax.set_xlim(0.0, 1.02)
        ax.set_xlabel("AUC (95% bootstrap interval)")
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
        ax.legend(loc="lower left", fontsize=8)
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    return out.getvalue()
