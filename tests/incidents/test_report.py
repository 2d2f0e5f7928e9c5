"""The triage report on constructed data with known errors: a batch whose relabels (under the
current guideline, through the campaign's follow-up tasks) make 2 TP, 3 FP, 2 TN and 2 FN at the
default threshold; the deployed round's own threshold changes them as it should; provenance,
the threshold the current costs choose, and the Markdown."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

import active_learning as al
from tests import factories
from tests.fakes import FakeGateway
from tests.incidents.helpers import annotator, answer_open_tasks, known_jsonl, known_labels, known_text
from workbench.annotations.services import annotations_reconcile
from workbench.guidelines.services import guideline_publish
from workbench.incidents.markdown import report_markdown
from workbench.incidents.models import FeedbackBatch
from workbench.incidents.report import triage_report
from workbench.incidents.services import feedback_import, feedback_sample_queue
from workbench.projects.models import Item, Project
from workbench.releases.models import Release
from workbench.rounds import embeddings
from workbench.rounds.models import Round
from workbench.rounds.round_model import round_model_save
from workbench.rounds.services import round_config_update

pytestmark = pytest.mark.django_db


def relabeled_batch(fake_gateway: FakeGateway, model_version: str = "") -> tuple[Project, FeedbackBatch]:
    project = factories.project()
    guideline_publish(project=project, text="v1", note="first", author=None)
    guideline_publish(project=project, text="v2", note="insults at named people count", author=None)
    batch = feedback_import(
        project=project,
        source="incident.jsonl",
        content=known_jsonl(model_version),
        note="toxicity filter blocked sports comments",
    )
    batch = feedback_sample_queue(batch=batch, size=10, seed=3)  # the whole batch
    token = annotator(fake_gateway, 1)
    assert answer_open_tasks(fake_gateway, project, token, known_labels(project)) == 9
    annotations_reconcile(project=project)
    return project, batch


def deployed_round(project: Project, *, threshold: float, number: int = 1) -> Round:
    return Round.objects.create(
        project=project,
        number=number,
        status=Round.Status.DONE,
        trigger=Round.Trigger.COMMAND,
        strategy="margin",
        seed=1,
        model_version=f"workbench-round-{number}",
        threshold={"threshold": threshold},
        training_size=40,
        # The validation slice: positives score 0.7 / 0.8, negatives 0.2 / 0.6.
        validation_scores={"y": [1, 1, 0, 0], "p": [0.8, 0.7, 0.6, 0.2]},
        finished_at=timezone.now(),
    )


def test_the_report_counts_false_positives_and_negatives_of_the_relabeled_rows(
    fake_gateway: FakeGateway,
) -> None:
    project, batch = relabeled_batch(fake_gateway)
    report = triage_report(batch)
    errors = report["errors"]
    assert errors["guideline_version"] == 2 and errors["threshold"] == 0.5
    assert errors["relabeled_rows"] == 9 and errors["rows"] == 10
    assert errors["counts"] == {"tp": 2, "fp": 3, "tn": 2, "fn": 2}
    fp, fn = errors["fp_rate"], errors["fn_rate"]
    assert (fp["errors"], fp["n"], fp["value"]) == (3, 5, 0.6)
    assert (fn["errors"], fn["n"], fn["value"]) == (2, 4, 0.5)
    assert fp["low"] == pytest.approx(0.2307, abs=1e-3) and fp["high"] == pytest.approx(0.8824, abs=1e-3)
    assert errors["per_report"]["user_flagged_false_positive"] == {
        "rows": 4,
        "relabeled": 4,
        "model_wrong": 3,
    }
    assert errors["per_report"]["user_flagged_false_negative"] == {
        "rows": 3,
        "relabeled": 3,
        "model_wrong": 2,
    }
    assert errors["per_report"]["other"] == {"rows": 3, "relabeled": 2, "model_wrong": 0}
    assert report["size"]["by_report"] == {
        "user_flagged_false_positive": 4,
        "user_flagged_false_negative": 3,
        "other": 3,
    }
    assert [b["rows"] for b in report["size"]["by_score"]] == [2, 2, 0, 2, 4]
    # The campaign's own counts: every item is new to the project (no older label), so an answered
    # one is "labeled", never changed / unchanged; the model's errors are the errors above.
    assert report["campaign"]["counts"] == {
        "queued": 1,
        "changed": 0,
        "unchanged": 0,
        "labeled": 9,
        "done": 9,
        "total": 10,
    }
    header = report["header"]
    assert "4 flagged as false positives, 3 as false negatives, 3 other" in header["what_happened"]
    assert "blocked sports comments" in header["what_happened"]
    assert "false-positive rate 60.0% (3/5" in header["how_big"]
    assert any(
        "9 done (9 labeled for the first time; of items with an older label, 0 changed, 0 unchanged), "
        "1 waiting" in line
        for line in header["what_was_done"]
    )
    assert report["provenance"]["round"] is None and report["threshold"]["latest_round_validation"] is None
    assert report["latest_round_model"] == {
        "status": "unavailable",
        "round": None,
        "reason": "no round of this project has finished",
    }
    # The threshold the costs would choose on the relabeled rows: 0.5 separates nothing better than
    # the choice, which must cost no more than the deployed 0.5 (5 errors of 9).
    on_batch = report["threshold"]["relabeled_batch"]
    assert on_batch["n"] == 9 and on_batch["expected_cost"] <= 5 / 9


def test_the_deployed_rounds_threshold_decides_and_the_costs_choose_a_new_one(
    fake_gateway: FakeGateway,
) -> None:
    project, batch = relabeled_batch(fake_gateway, model_version="workbench-round-1")
    deployed = deployed_round(project, threshold=0.8)
    release = Release.objects.create(
        project=project,
        version=1,
        tag="prod-2026-11",
        status=Release.Status.PUBLISHED,
        created_by_name="system",
        label_config_sha256=project.label_config_sha256,
        last_round_id=deployed.id,
        model_version=deployed.model_version,
        filter_policy={},
        split_ratios={},
        formats=["jsonl"],
        manifest={},
        manifest_sha256="0" * 64,
    )
    round_config_update(project=project, cost_fp=1.0, cost_fn=3.0)
    report = triage_report(batch)
    prov = report["provenance"]
    assert prov["round"]["number"] == 1 and prov["release"]["version"] == release.version
    assert prov["deployed_is_latest"] is True
    assert prov["matched_by"] == [
        "round 1 by its model_version 'workbench-round-1'",
        "release 1, the newest built on 'workbench-round-1'",
    ]
    # The deployed round is the latest; it was made without a stored model (as older rounds were).
    own = report["latest_round_model"]
    assert own["status"] == "unavailable" and own["round"] == 1
    assert own["reason"].startswith("round 1 has no stored model")
    assert "the latest round's model not scored: round 1 has no stored model" in report["header"]["how_big"]
    errors = report["errors"]
    # At 0.8 the 0.6-scored toxic row is missed too; the flagged rows stay as they were.
    assert errors["threshold"] == 0.8 and errors["counts"] == {"tp": 1, "fp": 3, "tn": 2, "fn": 3}
    threshold = report["threshold"]
    assert (threshold["cost_fp"], threshold["cost_fn"], threshold["deployed"]) == (1.0, 3.0, 0.8)
    # On the round's validation slice, FN costing 3: flag from 0.7 down (midpoint to 0.6).
    assert threshold["latest_round_validation"]["threshold"] == pytest.approx(0.65)
    assert threshold["latest_round_validation"]["round"] == 1
    assert any(
        "threshold would now be 0.650 (deployed: 0.800)" in s for s in report["header"]["what_changed"]
    )
    # Guideline v1 and v2 came before the release: nothing published since it.
    assert report["changes"]["since"] == "release 1" and report["changes"]["guideline_versions"] == []

    # A newer policy: the v2 answers no longer count as relabels under the guideline in force.
    guideline_publish(project=project, text="v3", note="sarcasm counts", author=None)
    report = triage_report(batch)
    assert "Guideline v3 published since release 1: sarcasm counts" in report["header"]["what_changed"]
    assert report["errors"]["guideline_version"] == 3 and report["errors"]["relabeled_rows"] == 0
    assert report["errors"]["fp_rate"]["value"] is None and report["threshold"]["relabeled_batch"] is None


def test_the_markdown_holds_the_header_and_the_figures(fake_gateway: FakeGateway) -> None:
    _, batch = relabeled_batch(fake_gateway)
    text = report_markdown(triage_report(batch))
    assert text.startswith(f"# Incident triage: feedback batch {batch.id} on ")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[:4] == ["## What happened", "## How big", "## What changed", "## What was done"]
    assert "| false positive | 3 | 5 | 60.0% | 23.1% – 88.2% |" in text
    assert "| false negative | 2 | 4 | 50.0% |" in text
    assert "| user_flagged_false_positive | 4 | 4 | 3 |" in text
    assert "Confusion counts: TP 2, FP 3, TN 2, FN 2." in text
    # The campaign: queued, done, changed, unchanged, labeled, total.
    assert "| 1 | 9 | 0 | 0 | 9 | 10 |" in text
    assert "- Round: not found" in text


@pytest.mark.usefixtures("hashed_features")
def test_the_latest_rounds_own_model_is_judged_on_the_relabeled_rows_beside_the_deployed_one(
    fake_gateway: FakeGateway,
) -> None:
    """The deployed model (round 1, production scores) against the latest round's stored model
    (round 2): a model trained on the relabeled texts with the labels of rows 0 (non-toxic) and
    4 (toxic) flipped, so at its threshold it flags row 0 and lets row 4 through."""
    project, batch = relabeled_batch(fake_gateway, model_version="workbench-round-1")
    deployed_round(project, threshold=0.5)
    latest = deployed_round(project, threshold=0.5, number=2)
    ids = sorted(i for i, label in known_labels(project).items() if label is not None)
    labels = {i: known_labels(project)[i] for i in ids}  # the nine relabeled items' v2 labels
    flipped = {Item.objects.get(data__text=known_text(row)).id for row in (0, 4)}
    taught = [(labels[i] == "toxic") != (i in flipped) for i in ids]
    X, featurizer = embeddings.features(project.kind, [Item.objects.get(id=i).data for i in ids])
    model = al.LogisticClassifier(2, C=1e4)
    model.fit(X, np.asarray(taught, dtype=np.int64))
    assert round_model_save(latest, model, featurizer) is not None

    report = triage_report(batch)
    own = report["latest_round_model"]
    assert own["status"] == "scored" and own["round"] == 2 and own["featurizer"] == featurizer
    assert (own["threshold"], own["threshold_source"]) == (0.5, "round 2's chosen threshold")
    # Independently: the model's own decisions on the same nine rows against their v2 labels.
    flagged = model.predict_proba(X)[:, 1] >= 0.5
    expected = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for item_id, flag in zip(ids, flagged, strict=True):
        toxic = labels[item_id] == "toxic"
        expected[("t" if toxic == flag else "f") + ("p" if flag else "n")] += 1
    assert own["counts"] == expected == {"tp": 3, "fp": 1, "tn": 4, "fn": 1}
    assert own["relabeled_rows"] == 9
    assert (own["fp_rate"]["errors"], own["fp_rate"]["n"], own["fp_rate"]["value"]) == (1, 5, 0.2)
    assert (own["fn_rate"]["errors"], own["fn_rate"]["n"], own["fn_rate"]["value"]) == (1, 4, 0.25)
    assert own["fp_rate"]["low"] == pytest.approx(0.0362, abs=1e-3)
    assert own["fp_rate"]["high"] == pytest.approx(0.6245, abs=1e-3)
    # Beside the deployed model's, from the production scores: 3/5 and 2/4.
    assert report["errors"]["counts"] == {"tp": 2, "fp": 3, "tn": 2, "fn": 2}
    assert (
        "the latest round's model (round 2, at 0.500) on the same rows: false-positive rate 20.0% (1/5"
        in (report["header"]["how_big"])
    )
    text = report_markdown(report)
    assert "## Errors of the latest round's model (round 2) on the relabeled rows" in text
    assert "| false positive | 1 | 5 | 20.0% | 3.6% – 62.4% |" in text
    assert "| false negative | 1 | 4 | 25.0% |" in text
    assert "Confusion counts: TP 3, FP 1, TN 4, FN 1." in text
