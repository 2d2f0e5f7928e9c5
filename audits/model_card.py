"""Model card in Markdown, with the sections of Mitchell et al. 2019 ("Model Cards for Model
Reporting"): model details, intended use, factors, metrics, evaluation data, training data,
ethical considerations, caveats and recommendations.

The output is a pure function of the typed input: no clock, no randomness, metrics sorted by
name and fixed number formats, so the same round renders the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from audits.fairness import GROUP_METRICS, FairnessReport
from audits.results import Estimate, InsufficientData, MetricResult

_METRIC_TITLES = {
    "subgroup_auc": "Subgroup AUC",
    "bpsn_auc": "BPSN AUC",
    "bnsp_auc": "BNSP AUC",
    "false_positive_rate": "FPR",
    "false_negative_rate": "FNR",
}


@dataclass(frozen=True)
class DatasetDescription:
    """A data set named in the card: name, item count and a sentence on where it came from."""

    name: str
    n_items: int
    description: str = ""


@dataclass(frozen=True)
class ModelCardInput:
    """Everything the card shows. ``date`` is a string the caller supplies (keeps output deterministic)."""

    model_name: str
    version: str
    date: str
    model_type: str
    developers: str
    intended_use: Sequence[str]
    out_of_scope_use: Sequence[str]
    validation_metrics: Mapping[str, float]
    cost_threshold: float
    evaluation_data: DatasetDescription
    training_data: DatasetDescription
    fairness: FairnessReport | None = None
    factors: Sequence[str] = ()
    ethical_considerations: Sequence[str] = ()
    caveats: Sequence[str] = ()
    extra_details: Mapping[str, str] = field(default_factory=dict)


def _cell(result: MetricResult) -> str:
    if isinstance(result, InsufficientData):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
        return f"too few items ({counts}; needs {result.needed})"
    if not isinstance(result, Estimate):
        raise TypeError(f"expected an Estimate or InsufficientData; got {type(result).__name__}")
    if result.interval is None or result.interval.low != result.interval.low:
        return f"{result.value:.3f}"
    return f"{result.value:.3f} [{result.interval.low:.3f}, {result.interval.high:.3f}]"


def _bullets(items: Sequence[str], empty: str) -> list[str]:
    return [f"- {line}" for line in items] if items else [f"- {empty}"]


def _fairness_lines(report: FairnessReport) -> list[str]:
    level = f"{report.level:.0%}"
    lines = [
        f"Per identity group on the evaluation data ({report.n_items} items, {report.n_positive} positive), "
        f"bootstrap {level} intervals over {report.n_resamples} resamples in brackets; "
        f"a metric needs at least {report.min_count} items of each class it compares "
        "(otherwise the cell says so). "
        f"FPR and FNR at threshold {report.threshold:.3f}.",
        "",
        "| group | items | positive | " + " | ".join(_METRIC_TITLES[m] for m in GROUP_METRICS) + " |",
        "|---|---:|---:|" + "---|" * len(GROUP_METRICS),
    ]
    for row in report.groups:
        cells = " | ".join(_cell(row.metric(m)) for m in GROUP_METRICS)
        lines.append(f"| {row.group} | {row.n_items} | {row.n_positive} | {cells} |")
    lines += [
        "",
        f"- Overall AUC: {_cell(report.overall_auc)}",
    ]
    for metric, result in report.bias_means.items():
        included = len(report.groups_in_mean[metric])
        lines.append(
            f"- Generalised mean (p = {report.power:g}) of {_METRIC_TITLES[metric]} over {included} groups: "
            f"{_cell(result)}"
        )
    w = report.bias_weights
    lines.append(
        f"- Final bias metric ({report.overall_weight:g} x overall + "
        f"{w[0]:g} / {w[1]:g} / {w[2]:g} x the three means): "
        f"{_cell(report.final_metric)}"
    )
    short = [
        row.group
        for row in report.groups
        if any(isinstance(row.metric(m), InsufficientData) for m in GROUP_METRICS)
    ]
    if short:
        lines.append(f"- Groups with too few items for at least one metric: {', '.join(short)}")
    return lines


def render_model_card(card: ModelCardInput) -> str:
    """The model card as Markdown (ends with one newline)."""
    if not isinstance(card, ModelCardInput):
        raise TypeError(f"render_model_card needs a ModelCardInput; got {type(card).__name__}")
    out = [f"# Model card: {card.model_name} {card.version}", ""]
    out += [
        "## Model details",
        "",
        f"- Model: {card.model_type}",
        f"- Version: {card.version}",
        f"- Date: {card.date}",
        f"- Developed by: {card.developers}",
    ]
    out += [f"- {k}: {v}" for k, v in sorted(card.extra_details.items())]
    out += ["", "## Intended use", "", *_bullets(card.intended_use, "not stated")]
    out += ["", "Out of scope:", "", *_bullets(card.out_of_scope_use, "not stated")]
    factors = list(card.factors) or ([row.group for row in card.fairness.groups] if card.fairness else [])
    out += ["", "## Factors", ""]
    out += (
        [f"Identity groups evaluated: {', '.join(factors)}."]
        if factors
        else ["No identity groups were evaluated."]
    )
    out += [
        "",
        "## Metrics",
        "",
        f"Decision threshold (cost threshold of the round): {card.cost_threshold:.3f}.",
        "",
    ]
    out += ["| metric | value |", "|---|---:|"]
    out += [f"| {name} | {card.validation_metrics[name]:.4f} |" for name in sorted(card.validation_metrics)]
    out += [""]
    out += _fairness_lines(card.fairness) if card.fairness else ["No fairness audit was run for this model."]
    for title, data in (("Evaluation data", card.evaluation_data), ("Training data", card.training_data)):
        out += [
            "",
            f"## {title}",
            "",
            f"{data.name}: {data.n_items} items." + (f" {data.description}" if data.description else ""),
        ]
    out += ["", "## Ethical considerations", "", *_bullets(card.ethical_considerations, "none recorded")]
    caveats = list(card.caveats)
    if card.fairness:
        short = [
            row.group
            for row in card.fairness.groups
            if any(isinstance(row.metric(m), InsufficientData) for m in GROUP_METRICS)
        ]
        if short:
            caveats.append(f"Too few evaluation items to measure every metric for: {', '.join(short)}.")
    out += ["", "## Caveats and recommendations", "", *_bullets(caveats, "none recorded")]
    return "\n".join(out) + "\n"
