"""Incident triage end to end through the real Label Studio on PostgreSQL: an on-call engineer
imports production feedback with the command, the batch's stratified sample is queued as
follow-up tasks under guideline v2 (insults aimed at a named person are toxic), a simulated
annotator following v2 answers them from Label Studio's own queue, and the triage report's
false-positive and false-negative counts are those the answers make of the deployed model's
decisions."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from workbench.annotations.simulation import simulate, simulated_annotators
from workbench.guidelines.models import RelabelTask
from workbench.guidelines.services import guideline_publish
from workbench.incidents.models import FeedbackBatch, FeedbackEntry
from workbench.incidents.report import triage_report
from workbench.labelstudio.types import Gateway
from workbench.projects.models import Item
from workbench.projects.services import project_create

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]

# (text, deployed score, report, the label under v2)
ROWS = [
    *[
        (f"great save by the keeper in minute {i}", 0.91, "user_flagged_false_positive", "non-toxic")
        for i in range(4)
    ],
    ("you are all worthless idiots", 0.88, "user_flagged_false_positive", "toxic"),
    *[
        (f"Senator Smith is a clueless fool, take {i}", 0.12, "user_flagged_false_negative", "toxic")
        for i in range(4)
    ],
    ("the senator spoke for an hour", 0.2, "user_flagged_false_negative", "non-toxic"),
    ("thanks for the quick fix", 0.05, "other", "non-toxic"),
    ("get lost, moron", 0.97, "other", "toxic"),
]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """The cheap featurizer and private folders (tests/conftest.py)."""


def test_a_sample_of_production_feedback_is_relabeled_in_label_studio_and_shows_in_the_report(
    real_gateway: Gateway, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    settings.PUBLIC_URL = live_server.url  # webhooks reach this test's workbench
    project = project_create(name=f"test triage {uuid.uuid4().hex[:8]}", kind="toxicity_binary")
    try:
        guideline_publish(project=project, text="# Toxicity\n\nAttacks are toxic.", note="first", author=None)
        guideline_publish(
            project=project,
            text="# Toxicity\n\nAttacks are toxic.\n\n- Insults aimed at a named person are toxic.",
            note="insults at named people",
            author=None,
        )
        path = tmp_path / "incident-42.jsonl"
        path.write_text(
            "".join(json.dumps({"text": t, "score": s, "report": r}) + "\n" for t, s, r, _ in ROWS),
            encoding="utf-8",
        )
        out = run(
            "import_feedback",
            project.name,
            str(path),
            "--model-version",
            "prod-3",
            "--note",
            "filter misfires",
        )
        batch = FeedbackBatch.objects.get(project=project)
        assert f"Feedback batch {batch.id}: 12 rows, 12 new items" in out

        out = run(
            "queue_feedback_sample", project.name, str(batch.id), "--size", "8", "--bins", "2", "--seed", "4"
        )
        assert "8 item(s) queued" in out, out
        sampled = set(
            RelabelTask.objects.filter(
                campaign_id=FeedbackBatch.objects.get(id=batch.id).campaign_id
            ).values_list("item_id", flat=True)
        )
        assert len(sampled) == 8
        # Label Studio holds exactly the follow-up tasks, stamped with v2.
        tasks = list(real_gateway.iter_tasks(project_id=project.ls_id()))
        assert {t.data["item_id"] for t in tasks} == sampled
        assert {t.data["guideline_version"] for t in tasks} == {2}

        truth = {text: label for text, _, _, label in ROWS}
        for item in Item.objects.filter(project=project):
            item.gold = truth[item.data["text"]]  # what the simulated annotator answers: v2's label
            item.save(update_fields=["gold"])
        annotators = simulated_annotators(1, [0.0])
        assert simulate(project=project, annotators=annotators, seed=4).total == 8
        run("reconcile_annotations", project.name)

        expected = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
        for entry in FeedbackEntry.objects.filter(batch=batch, item_id__in=sampled).select_related("item"):
            toxic, flagged = truth[entry.item.data["text"]] == "toxic", entry.score >= 0.5
            expected[("t" if toxic == flagged else "f") + ("p" if flagged else "n")] += 1
        report = triage_report(FeedbackBatch.objects.get(id=batch.id))
        errors = report["errors"]
        assert errors["guideline_version"] == 2 and errors["relabeled_rows"] == 8
        assert errors["counts"] == expected
        assert errors["fp_rate"]["errors"] == expected["fp"] and errors["fn_rate"]["errors"] == expected["fn"]
        assert expected["fp"] + expected["fn"] > 0  # the sample holds some of the model's errors
        counts = report["campaign"]["counts"]
        # Every sampled item is new to the project: its answer is "labeled" (no older label to change).
        assert (counts["done"], counts["labeled"], counts["changed"], counts["unchanged"]) == (8, 8, 0, 0)
        assert report["provenance"]["round"] is None  # prod-3 is no round of this project

        markdown = run("feedback_report", project.name, str(batch.id))
        assert f"| false positive | {expected['fp']} | {expected['fp'] + expected['tn']} |" in markdown
        assert "- Relabel campaign" in markdown and "8 done" in markdown
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
