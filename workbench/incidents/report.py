"""The triage report of a feedback batch: one structured dict (the API's JSON, the page, and
the Markdown of :mod:`workbench.incidents.markdown` all read it), made of the other apps' own
records, nothing recomputed that they store:

- how big: rows, new / linked items, counts by report type and by score bin;
- where the deployed model came from (``selectors.provenance_of``) and the latest round;
- input drift: the batch import's drift check (``workbench.audits``) against the training release;
- errors: the deployed model's decisions (its score against its round's threshold) on the rows
  whose items are labeled under the current guideline so far, as false-positive and
  false-negative rates with Wilson 95% intervals and the counts behind them;
- the latest round's model on the same rows: the latest done round's stored model
  (``workbench.rounds.round_model``) scores their items (features from the same featurizer) at
  that round's threshold, with the same rates; or why it could not (no stored model);
- the threshold the project's current cost settings would choose now
  (``active_learning.choose_threshold``), on the latest round's validation slice and on the
  relabeled rows;
- what changed since the training release (guideline versions, rounds) and what was done (the
  import, the relabel sample and its progress: the campaign's own counts, where ``changed`` /
  ``unchanged`` compare with an item's older consensus and a new item's answer is ``labeled``;
  the model's errors are the *errors* section, not these counts).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np

import active_learning as al
from active_learning import evaluation as ev
from workbench.audits.models import DriftCheck
from workbench.guidelines.campaigns import campaign_progress
from workbench.guidelines.models import GuidelineVersion
from workbench.incidents import selectors
from workbench.incidents.models import FeedbackBatch, FeedbackEntry, Report
from workbench.incidents.sampling import score_bin
from workbench.projects.kinds import Label
from workbench.projects.models import Item
from workbench.releases.models import Release
from workbench.rounds.models import Round
from workbench.rounds.round_model import round_model_load, round_model_proba
from workbench.rounds.services import round_config_get

SCORE_BINS = 5  # the report's score histogram (the sample keeps its own bins)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _rate(errors: int, n: int) -> dict[str, Any]:
    interval = ev.wilson_interval(errors, n)
    return {
        "errors": errors,
        "n": n,
        "value": errors / n if n else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }


def triage_report(batch: FeedbackBatch) -> dict[str, Any]:
    project = batch.project
    entries = selectors.entries_of(batch)
    prov = selectors.provenance_of(batch)
    latest = selectors.latest_round(project)
    labels, version = selectors.current_labels(project=project, item_ids=sorted({e.item_id for e in entries}))
    body: dict[str, Any] = {
        "batch": _batch(batch),
        "size": _size(entries),
        "provenance": _provenance(prov, latest),
        "drift": _drift(batch),
        "errors": _errors(entries, labels, prov.threshold, prov.threshold_source, version),
        "latest_round_model": _latest_model(entries, labels, latest),
        "threshold": _threshold(batch, entries, labels, latest, prov),
        "changes": _changes(batch, prov, latest),
        "campaign": _campaign(batch),
    }
    body["header"] = _header(body)
    return body


def _batch(batch: FeedbackBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "project": {"id": batch.project_id, "name": batch.project.name, "kind": batch.project.kind},
        "source_name": batch.source_name,
        "source_sha256": batch.source_sha256,
        "model_version": batch.model_version,
        "release_version": batch.release_version,
        "note": batch.note,
        "import_id": batch.item_import_id,
        "created_by": (batch.created_by.email or batch.created_by.get_username())
        if batch.created_by
        else None,
        "created_at": _when(batch.created_at),
    }


def _size(entries: list[FeedbackEntry]) -> dict[str, Any]:
    by_report = Counter(e.report for e in entries)
    bins = Counter(score_bin(e.score, SCORE_BINS) for e in entries)
    return {
        "rows": len(entries),
        "items": len({e.item_id for e in entries}),
        "new_items": len({e.item_id for e in entries if e.new_item}),
        "linked_items": len({e.item_id for e in entries if not e.new_item}),
        "by_report": {name: by_report.get(name, 0) for name in Report.values},
        "by_score": [
            {"low": b / SCORE_BINS, "high": (b + 1) / SCORE_BINS, "rows": bins.get(b, 0)}
            for b in range(SCORE_BINS)
        ],
    }


def _round(round_: Round | None) -> dict[str, Any] | None:
    if round_ is None:
        return None
    return {
        "id": round_.id,
        "number": round_.number,
        "model_version": round_.model_version,
        "strategy": round_.strategy,
        "status": round_.status,
        "training_size": round_.training_size,
        "threshold": (round_.threshold or {}).get("threshold"),
        "finished_at": _when(round_.finished_at),
    }


def _release(release: Release | None) -> dict[str, Any] | None:
    if release is None:
        return None
    return {
        "version": release.version,
        "tag": release.tag,
        "created_at": _when(release.created_at),
        "guideline_version": release.guideline_version,
        "record_count": release.record_count,
        "model_version": release.model_version,
    }


def _provenance(prov: selectors.Provenance, latest: Round | None) -> dict[str, Any]:
    return {
        "round": _round(prov.round),
        "release": _release(prov.release),
        "matched_by": prov.matched_by,
        "latest_round": _round(latest),
        "deployed_is_latest": prov.round is not None and latest is not None and prov.round.id == latest.id,
    }


def _drift(batch: FeedbackBatch) -> dict[str, Any]:
    check = DriftCheck.objects.filter(item_import_id=batch.item_import_id).first()
    if check is None:
        return {"status": "pending", "reference": selectors.training_reference(batch)}
    out: dict[str, Any] = {
        "status": check.status,
        "check_id": check.id,
        "side_a": check.side_a,
        "side_b": check.side_b,
        "n_a": check.n_a,
        "n_b": check.n_b,
        "verdict": check.verdict,
        "reasons": [r for r in check.reason.split("; ") if r],
        "features": check.features,
        "linked_items_left_out": batch.linked_count,
    }
    classifier = (check.report or {}).get("classifier") or {}
    if classifier:
        out["classifier_auc"] = classifier.get("auc")
        out["classifier_interval"] = classifier.get("interval")
        out["classifier_p_value"] = classifier.get("p_value")
    return out


def _is_toxic(label: Label) -> bool:
    return label == "toxic"


def _errors(
    entries: list[FeedbackEntry],
    labels: dict[int, Label],
    threshold: float,
    threshold_source: str,
    version: int | None,
) -> dict[str, Any]:
    per_report: dict[str, dict[str, int]] = {
        name: {"rows": 0, "relabeled": 0, "model_wrong": 0} for name in Report.values
    }
    decided: list[tuple[bool, bool]] = []
    for e in entries:
        per_report[e.report]["rows"] += 1
        label = labels.get(e.item_id)
        if label is None:
            continue
        toxic, flagged = _is_toxic(label), e.score >= threshold
        decided.append((toxic, flagged))
        per_report[e.report]["relabeled"] += 1
        per_report[e.report]["model_wrong"] += toxic != flagged
    return {
        "guideline_version": version,
        "threshold": threshold,
        "threshold_source": threshold_source,
        **_confusion(decided),
        "rows": len(entries),
        "per_report": per_report,
    }


def _confusion(decided: list[tuple[bool, bool]]) -> dict[str, Any]:
    """(label is toxic, model flagged it) per relabeled row -> counts and the two error rates."""
    tp = sum(toxic and flagged for toxic, flagged in decided)
    fp = sum(flagged and not toxic for toxic, flagged in decided)
    tn = sum(not flagged and not toxic for toxic, flagged in decided)
    fn = sum(toxic and not flagged for toxic, flagged in decided)
    return {
        "relabeled_rows": len(decided),
        "counts": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
        # FP rate: of the rows whose label is non-toxic, the share the model flagged.
        "fp_rate": _rate(fp, fp + tn),
        # FN rate: of the rows whose label is toxic, the share the model let through.
        "fn_rate": _rate(fn, fn + tp),
    }


def _latest_model(
    entries: list[FeedbackEntry], labels: dict[int, Label], latest: Round | None
) -> dict[str, Any]:
    """The latest done round's own model (``workbench.rounds.round_model``) on the relabeled
    rows: each row's item scored with the stored model, features from the same featurizer,
    decided at that round's threshold. ``status`` "scored", else "unavailable" with the reason
    (no round done, no stored model, the featurizer changed)."""
    if latest is None:
        return {"status": "unavailable", "round": None, "reason": "no round of this project has finished"}
    out: dict[str, Any] = {"round": latest.number, "round_id": latest.id}
    stored = round_model_load(latest)
    if isinstance(stored, str):
        return {**out, "status": "unavailable", "reason": stored}
    chosen = (latest.threshold or {}).get("threshold")
    threshold = float(chosen) if chosen is not None else selectors.DEFAULT_THRESHOLD
    out |= {
        "featurizer": stored.featurizer,
        "threshold": threshold,
        "threshold_source": f"round {latest.number}'s chosen threshold"
        if chosen is not None
        else f"0.5 (round {latest.number} chose none)",
    }
    relabeled = [e for e in entries if e.item_id in labels]
    item_ids = sorted({e.item_id for e in relabeled})
    score: dict[int, float] = {}
    if item_ids:
        data = Item.objects.in_bulk(item_ids)
        proba = round_model_proba(stored, [data[i].data for i in item_ids])
        if isinstance(proba, str):
            return {**out, "status": "unavailable", "reason": proba}
        score = {i: float(p) for i, p in zip(item_ids, proba[:, 1], strict=True)}
    decided = [(_is_toxic(labels[e.item_id]), score[e.item_id] >= threshold) for e in relabeled]
    return {**out, "status": "scored", **_confusion(decided)}


def _choice(y: list[int], p: list[float], cost_fp: float, cost_fn: float) -> dict[str, Any] | None:
    if not y:
        return None
    choice = al.choose_threshold(
        np.asarray(y), np.asarray(p, dtype=np.float64), cost_fp=cost_fp, cost_fn=cost_fn
    )
    return {
        "threshold": choice.threshold,
        "expected_cost": choice.expected_cost,
        "precision": choice.precision,
        "recall": choice.recall,
        "n": len(y),
        "positives": int(sum(y)),
    }


def _threshold(
    batch: FeedbackBatch,
    entries: list[FeedbackEntry],
    labels: dict[int, Label],
    latest: Round | None,
    prov: selectors.Provenance,
) -> dict[str, Any]:
    config = round_config_get(project=batch.project)
    cost_fp, cost_fn = float(config.cost_fp), float(config.cost_fn)
    stored = latest.validation_scores if latest is not None else None
    on_validation = None
    if stored:
        on_validation = _choice(
            [int(v) for v in stored["y"]], [float(v) for v in stored["p"]], cost_fp, cost_fn
        )
        if on_validation is not None and latest is not None:
            on_validation["round"] = latest.number
    relabeled = [e for e in entries if e.item_id in labels]
    on_batch = _choice(
        [int(_is_toxic(labels[e.item_id])) for e in relabeled], [e.score for e in relabeled], cost_fp, cost_fn
    )
    return {
        "cost_fp": cost_fp,
        "cost_fn": cost_fn,
        "deployed": prov.threshold,
        "deployed_source": prov.threshold_source,
        "latest_round_validation": on_validation,
        "relabeled_batch": on_batch,
    }


def _changes(batch: FeedbackBatch, prov: selectors.Provenance, latest: Round | None) -> dict[str, Any]:
    project = batch.project
    since = prov.release.created_at if prov.release is not None else None
    versions = GuidelineVersion.objects.filter(project=project).order_by("version")
    if since is not None:
        versions = versions.filter(published_at__gt=since)
    rounds: list[int] = []
    if prov.round is not None:
        rounds = list(
            Round.objects.filter(project=project, status=Round.Status.DONE, number__gt=prov.round.number)
            .order_by("number")
            .values_list("number", flat=True)
        )
    newer = selectors.published_releases(project)
    if prov.release is not None:
        newer = newer.filter(version__gt=prov.release.version)
    return {
        "since": f"release {prov.release.version}" if prov.release is not None else None,
        "guideline_versions": [
            {"version": v.version, "note": v.note, "published_at": _when(v.published_at)} for v in versions
        ],
        "rounds_after_deployed": rounds,
        "releases_after_training": sorted(newer.values_list("version", flat=True)),
        "latest_round": latest.number if latest is not None else None,
    }


def _campaign(batch: FeedbackBatch) -> dict[str, Any] | None:
    if batch.campaign is None:
        return None
    progress = campaign_progress(batch.campaign)
    return {
        "id": progress["id"],
        "guideline_version": progress["guideline_version"],
        "counts": progress["counts"],
        "sample": batch.sample,
    }


def _header(body: dict[str, Any]) -> dict[str, Any]:
    """Four answers for a postmortem, in sentences built from the figures above."""
    b, size, prov, errors = body["batch"], body["size"], body["provenance"], body["errors"]
    reports = size["by_report"]
    model = b["model_version"] or "an unnamed model"
    happened = (
        f"{size['rows']} production feedback rows on '{b['project']['name']}' scored by {model}: "
        f"{reports[Report.FALSE_POSITIVE]} flagged as false positives, "
        f"{reports[Report.FALSE_NEGATIVE]} as false negatives, {reports[Report.OTHER]} other reports."
    )
    if b["note"]:
        happened += f" Reported: {b['note'].rstrip('.')}."
    fp, fn = errors["fp_rate"], errors["fn_rate"]
    big = (
        f"{size['items']} distinct texts ({size['new_items']} new to the project, {size['linked_items']} "
        f"already in it); {errors['relabeled_rows']} of {errors['rows']} rows relabeled so far"
    )
    if errors["relabeled_rows"]:
        big += f": false-positive rate {_share(fp)}, false-negative rate {_share(fn)}"
    own = body["latest_round_model"]
    if own["status"] == "scored" and own["relabeled_rows"]:
        big += (
            f"; the latest round's model (round {own['round']}, at {own['threshold']:.3f}) on the same "
            f"rows: false-positive rate {_share(own['fp_rate'])}, "
            f"false-negative rate {_share(own['fn_rate'])}"
        )
    elif own["status"] == "unavailable":
        big += f"; the latest round's model not scored: {own['reason']}"
    changed: list[str] = []
    drift = body["drift"]
    if drift["status"] == "done":
        changed.append(f"Inputs against {drift['side_a']}: {drift['verdict']}.")
    elif drift["status"] == "skipped":
        changed.append(f"Input drift not tested: {'; '.join(drift['reasons'])}.")
    else:
        changed.append("Input drift check still running.")
    changes = body["changes"]
    for v in changes["guideline_versions"]:
        since = f" since {changes['since']}" if changes["since"] else " (no training release known)"
        changed.append(f"Guideline v{v['version']} published{since}: {v['note']}")
    if changes["rounds_after_deployed"]:
        numbers = ", ".join(str(n) for n in changes["rounds_after_deployed"])
        changed.append(f"Rounds after the deployed model's: {numbers}.")
    if prov["round"] is None:
        changed.append("The deployed model matched no round of this project.")
    t = body["threshold"]
    now = t["latest_round_validation"] or t["relabeled_batch"]
    if now is not None:
        changed.append(
            f"At cost_fp={t['cost_fp']:g}, cost_fn={t['cost_fn']:g} the threshold would now be "
            f"{now['threshold']:.3f} (deployed: {t['deployed']:.3f})."
        )
    done = [f"Imported by {b['created_by'] or 'a command'} at {b['created_at']} (import {b['import_id']})."]
    campaign = body["campaign"]
    if campaign is not None:
        c = campaign["counts"]
        done.append(
            f"Relabel campaign {campaign['id']} under guideline v{campaign['guideline_version']}: "
            f"{c['total']} items queued, {c['done']} done ({c['labeled']} labeled for the first time; "
            f"of items with an older label, {c['changed']} changed, {c['unchanged']} unchanged), "
            f"{c['queued']} waiting."
        )
    else:
        done.append("No relabel sample queued yet.")
    return {"what_happened": happened, "how_big": big, "what_changed": changed, "what_was_done": done}


def _share(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return "n/a (no such rows yet)"
    return f"{rate['value']:.1%} ({rate['errors']}/{rate['n']}, 95% CI {rate['low']:.1%}-{rate['high']:.1%})"
