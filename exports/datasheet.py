"""Generated Markdown datasheet ("Datasheets for Datasets", Gebru et al.) for a release.

Prose comes from :class:`DatasheetInfo` (the project's own words); numbers come from the
manifest, so the datasheet can't drift from the files it describes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exports.manifest import MANIFEST_NAME, Manifest

NOT_PROVIDED = "_Not provided._"
# The chosen response is "the longer one most of the time" when the lower end of its interval
# lies above one half: then the risk section is written.
LENGTH_RISK_ABOVE = 0.5


class LengthBias(Protocol):
    """How often a preference release's chosen response is the longer one, among its decided
    pairs of unequal length, with an interval computed by the caller (e.g. Wilson's)."""

    @property
    def longer_chosen(self) -> int: ...
    @property
    def pairs(self) -> int: ...
    @property
    def ci_low(self) -> float: ...
    @property
    def ci_high(self) -> float: ...


@dataclass(frozen=True)
class LengthShare:
    """A :class:`LengthBias` given as numbers."""

    longer_chosen: int
    pairs: int
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class DatasheetInfo:
    """Human-written parts of the datasheet. ``agreement`` holds metrics computed elsewhere
    (e.g. ``{"krippendorff_alpha": 0.71, "fleiss_kappa": 0.64}``); ``extra_sections`` are
    ``(title, Markdown text)`` pairs written after the known issues, in the order given."""

    title: str = ""
    description: str = ""
    collection: str = ""
    labeling: str = ""
    agreement: Mapping[str, float] = field(default_factory=dict)
    known_issues: Sequence[str] = ()
    filters_applied: Sequence[str] = ()
    license: str = ""
    contact: str = ""
    length_bias: LengthBias | None = None  # preference releases: the reward-hacking risk section
    content_warning: str = "This dataset contains real toxic, hateful, obscene and threatening text."
    extra_sections: Sequence[tuple[str, str]] = ()


def render_datasheet(manifest: Manifest, info: DatasheetInfo) -> str:
    """Return the datasheet Markdown for ``manifest`` (its ``files`` are not needed)."""
    meta = manifest.release
    stats = manifest.stats
    title = info.title or meta.project or "Dataset"
    tag = f" ({meta.tag})" if meta.tag else ""
    out: list[str] = [f"# Datasheet: {title}, release {meta.version}{tag}", ""]
    if info.content_warning:
        out += [f"> **Content warning:** {info.content_warning}", ""]
    out += _table(
        ["field", "value"],
        [
            ["Project kind", manifest.kind],
            ["Classes", ", ".join(f"`{name}`" for name in manifest.classes)],
            ["Records", f"{stats['records']:,}"],
            ["Created by", meta.created_by],
            ["Created at", meta.created_at or "not recorded"],
            ["Label config hash", f"`{meta.label_config_hash}`"],
            ["Salt fingerprint", f"`{manifest.splits['salt_fingerprint']}`"],
            ["License", info.license or "not stated"],
            ["Contact", info.contact or "not stated"],
        ],
    )
    out += _section("What the data is", info.description)
    out += _section("How it was collected", info.collection)
    out += _section("How it was labeled", info.labeling)
    annotations = stats["annotations"]
    mean = annotations / stats["records"] if stats["records"] else 0.0
    out += [
        f"- Distinct annotators: {stats['annotators']:,} (pseudonymous ids: HMAC-SHA256 "
        "of the user id under a secret per-project salt, truncated to 64 bits).",
        f"- Annotations: {annotations:,} ({mean:.2f} per item on average).",
        "- `label`/`labels` is the consensus; `soft_label` is the fraction of annotators per "
        "class; `quality` is the label quality score (higher is more trustworthy).",
        "",
    ]
    out += ["## Label distribution", ""]
    out += _label_table(manifest)
    for name, what in (("trl", "TRL preference pairs"), ("trl_conversational", "TRL conversational pairs")):
        if name in stats:
            trl = stats[name]
            out += [f"{what} written: {trl['pairs']:,}; ties left out: {trl['ties_excluded']:,}.", ""]
            if trl.get("margin"):
                out += [
                    f"Each {name} pair has a `margin`: the consensus strength of the preference on the "
                    "annotators' graded scale (0 = no strength .. 3 = much better; the median of the "
                    "counted votes' signed strengths, in the consensus direction).",
                    "",
                ]
    out += _length_risk(info.length_bias)
    out += ["## Agreement", ""]
    if info.agreement:
        out += _table(
            ["metric", "value"],
            [[name, f"{info.agreement[name]:.4f}"] for name in sorted(info.agreement)],
        )
    else:
        out += [NOT_PROVIDED, ""]
    quality = stats["quality"]
    out += ["## Label quality", ""]
    if quality["count"]:
        out += [
            f"Scores on {quality['count']:,} records: mean {quality['mean']:.4f}, "
            f"min {quality['min']:.4f}, max {quality['max']:.4f}.",
            "",
        ]
    else:
        out += [NOT_PROVIDED, ""]
    out += ["## Filters applied", ""]
    out += _bullets(info.filters_applied)
    if meta.filter_policy:
        policy = json.dumps(meta.filter_policy, indent=2, sort_keys=True, ensure_ascii=False)
        out += ["Filter policy:", "", "```json", policy, "```", ""]
    out += ["## Known issues", ""]
    out += _bullets(info.known_issues)
    for title, text in info.extra_sections:
        out += _section(title, text)
    ratios = manifest.splits["ratios"]
    out += [
        "## Splits",
        "",
        "Assigned from a keyed hash of the item id (HMAC-SHA256 under the project salt), so an "
        "item keeps its split in every release while the salt and ratios stay the same. "
        "Ratios: " + ", ".join(f"{name} {ratio:g}" for name, ratio in ratios.items()) + ".",
        "",
        "## Files",
        "",
        f"One file per format and split, e.g. `parquet/train.parquet`. `{MANIFEST_NAME}` lists "
        "every file with its sha256 and size; CSV text cells starting with `= + - @`, tab or CR "
        "carry a leading apostrophe against spreadsheet formula injection.",
        "",
    ]
    return "\n".join(out)


def _length_risk(bias: LengthBias | None) -> list[str]:
    """The reward-hacking risk section, when the longer answer wins most of the time."""
    if bias is None or bias.pairs == 0 or not bias.ci_low > LENGTH_RISK_ABOVE:
        return []
    share = bias.longer_chosen / bias.pairs
    return [
        "## Reward-hacking risk",
        "",
        f"The chosen response is the longer one in {bias.longer_chosen:,} of {bias.pairs:,} decided pairs "
        f"of unequal length ({share:.1%}; 95% interval {bias.ci_low:.1%} to {bias.ci_high:.1%}). A reward "
        "model trained on these pairs can learn that longer is better, and a policy optimised against it "
        "then gains reward by writing more rather than better. Check a reward model trained on this "
        "release against length (its accuracy on pairs where the chosen response is the shorter one), "
        "or balance the pairs by length before training.",
        "",
    ]


def _label_table(manifest: Manifest) -> list[str]:
    stats = manifest.stats
    splits = list(stats["by_split"])
    names = list(manifest.classes)
    if manifest.kind == "multilabel":
        names.append("no_label")
    header = ["label", *splits, "total", "share"]
    rows = []
    total_records = stats["records"]
    for name in names:
        if name == "no_label":
            per_split = [stats["no_label_by_split"][split] for split in splits]
            total = stats["no_label"]
        else:
            per_split = [stats["by_split_and_label"][split][name] for split in splits]
            total = stats["by_label"][name]
        share = f"{100 * total / total_records:.1f}%" if total_records else "-"
        rows.append([f"`{name}`", *(f"{n:,}" for n in per_split), f"{total:,}", share])
    rows.append(
        [
            "**records**",
            *(f"{stats['by_split'][split]:,}" for split in splits),
            f"{total_records:,}",
            "",
        ]
    )
    return _table(header, rows)


def _section(title: str, text: str) -> list[str]:
    return [f"## {title}", "", text.strip() or NOT_PROVIDED, ""]


def _bullets(items: Sequence[str]) -> list[str]:
    if not items:
        return ["None recorded.", ""]
    return [*(f"- {item}" for item in items), ""]


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]
