"""The triage report as Markdown, to paste into a postmortem: the four header answers first,
then the figures behind them as tables. Reads only the report dict (``report.triage_report``)."""

from __future__ import annotations

from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _rate(rate: dict[str, Any]) -> list[Any]:
    if rate["value"] is None:
        return [rate["errors"], rate["n"], None, None]
    return [rate["errors"], rate["n"], f"{rate['value']:.1%}", f"{rate['low']:.1%} – {rate['high']:.1%}"]


def _round(r: dict[str, Any] | None) -> str:
    return f"round {r['number']} (`{r['model_version']}`)" if r else "not found"


def _release(rel: dict[str, Any] | None) -> str:
    if rel is None:
        return "not found"
    tag = f" ({rel['tag']})" if rel["tag"] else ""
    guideline = f", guideline {rel['guideline_version']}" if rel["guideline_version"] else ""
    return f"v{rel['version']}{tag}{guideline}"


def report_markdown(report: dict[str, Any]) -> str:
    b, h = report["batch"], report["header"]
    out = [
        f"# Incident triage: feedback batch {b['id']} on {b['project']['name']}",
        "",
        f"Source `{b['source_name']}` (sha256 `{b['source_sha256'][:12]}`), model version "
        f"`{b['model_version'] or 'unnamed'}`, imported {b['created_at']}.",
        "",
        "## What happened",
        "",
        h["what_happened"],
        "",
        "## How big",
        "",
        h["how_big"] + ".",
        "",
        "## What changed",
        "",
        *[f"- {line}" for line in h["what_changed"]],
        "",
        "## What was done",
        "",
        *[f"- {line}" for line in h["what_was_done"]],
        "",
        "## Reports",
        "",
    ]
    size, errors = report["size"], report["errors"]
    per = errors["per_report"]
    out += _table(
        ["report", "rows", "relabeled", "model wrong"],
        [
            [name, n, per[name]["relabeled"], per[name]["model_wrong"]]
            for name, n in size["by_report"].items()
        ],
    )
    out += _table(
        ["score", "rows"], [[f"{s['low']:.1f}–{s['high']:.1f}", s["rows"]] for s in size["by_score"]]
    )
    version = errors["guideline_version"]
    out += [
        "## Errors of the deployed model on the relabeled rows",
        "",
        f"Labels: consensus of the answers under guideline "
        f"{'v' + str(version) if version is not None else '(none published: all answers)'}; "
        f"decision: score ≥ {errors['threshold']:.3f} ({errors['threshold_source']}). "
        f"{errors['relabeled_rows']} of {errors['rows']} rows relabeled.",
        "",
    ]
    c = errors["counts"]
    out += _table(
        ["rate", "errors", "of", "value", "95% interval (Wilson)"],
        [["false positive", *_rate(errors["fp_rate"])], ["false negative", *_rate(errors["fn_rate"])]],
    )
    out += [f"Confusion counts: TP {c['tp']}, FP {c['fp']}, TN {c['tn']}, FN {c['fn']}.", ""]
    own = report["latest_round_model"]
    title = "## Errors of the latest round's model on the relabeled rows"
    if own["round"] is not None:
        title = f"## Errors of the latest round's model (round {own['round']}) on the relabeled rows"
    out += [title, ""]
    if own["status"] != "scored":
        out += [f"Not scored: {own['reason']}.", ""]
    else:
        oc = own["counts"]
        out += [
            f"The round's stored model on the same rows (features: {own['featurizer']}); decision: "
            f"score ≥ {own['threshold']:.3f} ({own['threshold_source']}).",
            "",
        ]
        out += _table(
            ["rate", "errors", "of", "value", "95% interval (Wilson)"],
            [["false positive", *_rate(own["fp_rate"])], ["false negative", *_rate(own["fn_rate"])]],
        )
        out += [f"Confusion counts: TP {oc['tp']}, FP {oc['fp']}, TN {oc['tn']}, FN {oc['fn']}.", ""]
    t = report["threshold"]
    out += [f"## Threshold at the current costs (cost_fp={t['cost_fp']:g}, cost_fn={t['cost_fn']:g})", ""]
    rows = [["deployed", t["deployed"], None, None, None, t["deployed_source"]]]
    for name, choice in (
        ("latest round's validation slice", t["latest_round_validation"]),
        ("relabeled batch rows", t["relabeled_batch"]),
    ):
        if choice is None:
            rows.append([name, None, None, None, None, "no labeled rows"])
        else:
            rows.append([name, choice["threshold"], choice["precision"], choice["recall"], choice["n"], ""])
    out += _table(["chosen on", "threshold", "precision", "recall", "n", "note"], rows)
    prov = report["provenance"]
    out += ["## Where the deployed model came from", ""]
    out += [
        f"- Round: {_round(prov['round'])}",
        f"- Release: {_release(prov['release'])}",
        f"- Matched by: {'; '.join(prov['matched_by']) or 'nothing matched'}",
        f"- Latest round: {_round(prov['latest_round'])}"
        + (" (the deployed one)" if prov["deployed_is_latest"] else ""),
        "",
    ]
    d = report["drift"]
    out += ["## Input drift", ""]
    if d["status"] == "pending":
        out += [f"Not computed yet (a worker compares the batch with {d['reference']}).", ""]
    else:
        out += [
            f"{d['side_b']} ({d['n_b']} new items) against {d['side_a']} ({d['n_a']} items): "
            f"**{d['verdict'] or 'not tested'}**"
            + (f"; classifier AUC {d['classifier_auc']:.3f}" if d.get("classifier_auc") is not None else "")
            + f". {d['linked_items_left_out']} rows on items already in the project are not part of it.",
            "",
            *[f"- {reason}" for reason in d["reasons"]],
            "",
        ]
    campaign = report["campaign"]
    if campaign is not None:
        cc = campaign["counts"]
        out += [f"## Relabel campaign {campaign['id']} (guideline v{campaign['guideline_version']})", ""]
        out += _table(
            ["queued", "done", "changed", "unchanged", "labeled", "total"],
            [[cc["queued"], cc["done"], cc["changed"], cc["unchanged"], cc["labeled"], cc["total"]]],
        )
    return "\n".join(out).rstrip() + "\n"
