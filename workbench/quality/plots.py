"""Server-side SVG plots for the dashboard (matplotlib's object API: no pyplot global state,
safe in threaded servers)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

COLORS = ("#3b6ea8", "#d1843b", "#4f9a5a", "#b04a4a")


def _svg(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    return out.getvalue()


def _empty(fig: Figure, message: str) -> bytes:
    ax = fig.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555")
    ax.set_axis_off()
    return _svg(fig)


def trend_svg(trend: Sequence[dict[str, Any]]) -> bytes:
    """Krippendorff's alpha per period with its bootstrap band, and percent agreement."""
    fig = Figure(figsize=(7, 3.2))
    points = [
        p for p in trend if p.get("krippendorff_alpha") is not None or p.get("percent_agreement") is not None
    ]
    if not points:
        return _empty(fig, "No agreement yet (needs items with two or more answers)")
    ax = fig.subplots()
    x = list(range(len(points)))
    alpha = [p["krippendorff_alpha"] if p["krippendorff_alpha"] is not None else float("nan") for p in points]
    low = [p["ci_low"] if p["ci_low"] is not None else a for p, a in zip(points, alpha, strict=True)]
    high = [p["ci_high"] if p["ci_high"] is not None else a for p, a in zip(points, alpha, strict=True)]
    ax.fill_between(x, low, high, color=COLORS[0], alpha=0.2, label="95% bootstrap interval")
    ax.plot(x, alpha, marker="o", color=COLORS[0], label="Krippendorff's alpha")
    percent = [p["percent_agreement"] if p["percent_agreement"] is not None else float("nan") for p in points]
    ax.plot(x, percent, marker="s", linestyle="--", color=COLORS[1], label="percent agreement")
    ax.set_xticks(x, [str(p["period"]) for p in points], rotation=30, ha="right")
    ax.set_ylim(min(-0.05, min(low) - 0.05), 1.05)
    ax.axhline(0.667, color="#999", linewidth=0.8, linestyle=":")
    ax.set_ylabel("agreement")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def annotators_svg(rows: Sequence[dict[str, Any]], *, threshold: float) -> bytes:
    """Per annotator: agreement with the others, gold accuracy, CROWDLAB quality; flagged
    annotators' names in red."""
    fig = Figure(figsize=(7, 0.6 + 0.55 * max(len(rows), 1)))
    if not rows:
        return _empty(fig, "No annotations yet")
    ax = fig.subplots()
    metrics = (
        ("agreement", "agreement"),
        ("gold_accuracy", "gold accuracy"),
        ("crowdlab_quality", "CROWDLAB quality"),
    )
    height = 0.8 / len(metrics)
    for m, (key, label) in enumerate(metrics):
        ys = [i + m * height for i in range(len(rows))]
        values = [r[key] if r[key] is not None else 0.0 for r in rows]
        ax.barh(ys, values, height=height, color=COLORS[m], label=label)
    ax.set_yticks([i + height for i in range(len(rows))], [r["name"] for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row["flagged"]:
            tick.set_color("#c00")
            tick.set_fontweight("bold")
    ax.axvline(threshold, color="#c00", linestyle=":", linewidth=1)
    ax.set_xlim(0, 1.0)
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("score (higher is better)")
    return _svg(fig)


def quality_histogram_svg(scores: Sequence[float]) -> bytes:
    """Distribution of per-item consensus quality."""
    fig = Figure(figsize=(7, 2.6))
    if not scores:
        return _empty(fig, "No consensus yet")
    ax = fig.subplots()
    ax.hist(scores, bins=20, range=(0, 1), color=COLORS[2], edgecolor="white")
    ax.set_xlabel("consensus quality per item")
    ax.set_ylabel("items")
    return _svg(fig)


def learning_curve_svg(points: Sequence[dict[str, Any]], *, metric: str) -> bytes:
    """A project's validation metric per round against the labels it trained on, with each
    round's 95% interval where one is known, and PR-AUC where the kind has one. ``points``:
    ``{"number", "training_size", "value", "low", "high", "pr_auc"}``."""
    fig = Figure(figsize=(7, 3.2))
    shown = [p for p in points if p["value"] is not None]
    if not shown:
        return _empty(fig, "No validated round yet (needs labels and items with a gold label)")
    ax = fig.subplots()
    x = [p["training_size"] for p in shown]
    value = [p["value"] for p in shown]
    low = [p["low"] if p["low"] is not None else v for p, v in zip(shown, value, strict=True)]
    high = [p["high"] if p["high"] is not None else v for p, v in zip(shown, value, strict=True)]
    ax.fill_between(x, low, high, color=COLORS[0], alpha=0.2, label="95% interval")
    ax.errorbar(
        x,
        value,
        yerr=[
            [v - lo for v, lo in zip(value, low, strict=True)],
            [hi - v for v, hi in zip(value, high, strict=True)],
        ],
        marker="o",
        color=COLORS[0],
        capsize=3,
        label=metric.replace("_", " "),
    )
    for p in shown:
        ax.annotate(
            f"r{p['number']}",
            (p["training_size"], p["value"]),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
        )
    pr_auc = [p for p in shown if p.get("pr_auc") is not None]
    if pr_auc:
        ax.plot(
            [p["training_size"] for p in pr_auc],
            [p["pr_auc"] for p in pr_auc],
            marker="s",
            linestyle="--",
            color=COLORS[1],
            label="PR-AUC",
        )
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("training labels (items with a majority label)")
    ax.set_ylabel("on the validation slice")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig)


def pr_curves_svg(curves: Sequence[dict[str, Any]]) -> bytes:
    """Precision-recall curves, each with the threshold the costs chose marked. ``curves``:
    ``{"label", "recall", "precision", "chosen": {"recall", "precision", "threshold"} | None}``."""
    fig = Figure(figsize=(6, 4.2))
    if not curves:
        return _empty(fig, "No validation scores stored for this round")
    ax = fig.subplots()
    for i, curve in enumerate(curves):
        color = COLORS[i % len(COLORS)] if len(curves) <= len(COLORS) else None
        line = ax.plot(curve["recall"], curve["precision"], color=color, label=curve["label"])[0]
        chosen = curve.get("chosen")
        if chosen is not None:
            ax.plot(
                [chosen["recall"]],
                [chosen["precision"]],
                marker="D",
                markersize=9,
                color=line.get_color(),
                markeredgecolor="#000",
                linestyle="none",
                label=f"{curve['label']}: threshold {chosen['threshold']:.3f}",
            )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig)
