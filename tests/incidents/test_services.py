"""Feedback batches on the in-memory Label Studio: imports (all rows or none, errors at their
row and field, texts linked by content), the stratified relabel sample, and the drift check of
the batch reusing the audits' check."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.fakes import FakeGateway
from tests.incidents.helpers import annotator, answer_open_tasks, known_jsonl, known_labels
from workbench.annotations.services import annotations_reconcile
from workbench.audits.models import DriftCheck
from workbench.errors import Conflict, ValidationFailed
from workbench.guidelines.campaigns import campaign_progress
from workbench.guidelines.models import RelabelCampaign
from workbench.guidelines.services import guideline_publish
from workbench.incidents.models import FeedbackBatch, FeedbackEntry
from workbench.incidents.report import triage_report
from workbench.incidents.sampling import score_bin, stratified_sample
from workbench.incidents.services import feedback_import, feedback_sample_queue
from workbench.projects.models import Item, ItemImport, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(fake_gateway: FakeGateway) -> Project:
    project = factories.project()
    factories.toxicity_items(project, 3)  # "comment number 0..2"
    return project


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_batch_links_known_texts_and_adds_the_others_as_items_of_its_own_import(project: Project) -> None:
    content = csv_bytes(
        "text,score,report,note,lang",
        "comment number 1,0.91,user_flagged_false_positive,not toxic at all,en",
        "a brand new production text,0.12,user_flagged_false_negative,,en",
        "a brand new production text,0.14,user_flagged_false_negative,same text again,en",
    )
    before = Item.objects.filter(project=project).count()
    batch = feedback_import(project=project, source="feedback.csv", content=content, model_version="m-7")
    assert (batch.rows, batch.created_count, batch.linked_count) == (3, 1, 1)
    assert batch.model_version == "m-7"
    assert Item.objects.filter(project=project).count() == before + 1
    new = Item.objects.get(project=project, data__text="a brand new production text")
    assert new.source_id == batch.item_import_id and new.gold is None
    assert new.metadata == {"lang": "en"}  # the feedback columns live on the entries, not the item
    entries = list(
        FeedbackEntry.objects.filter(batch=batch).values_list("row", "item_id", "report", "new_item")
    )
    linked = Item.objects.get(project=project, data__text="comment number 1")
    assert entries == [
        (1, linked.id, "user_flagged_false_positive", False),
        (2, new.id, "user_flagged_false_negative", True),
        (3, new.id, "user_flagged_false_negative", True),
    ]
    assert FeedbackEntry.objects.get(batch=batch, row=1).note == "not toxic at all"


@pytest.mark.parametrize(
    ("lines", "row", "field", "message"),
    [
        (["text,score,report", "ok,0.5,other", "fine,1.5,other"], 2, "score", "number in [0, 1]"),
        (["text,score,report", "ok,0.5,other", "fine,high,other"], 2, "score", "'high'"),
        (["text,score,report", "ok,0.5,other", "fine,,other"], 2, "score", "missing"),
        (["text,score,report", "ok,0.5,other", "ok2,0.5,other", "x,0.5,angry"], 3, "report", "valid:"),
        (["text,score", "ok,0.5"], 1, "report", "missing"),
        (["text,score,report", "ok,0.5,other", ",0.5,other"], 2, "text", "empty text"),
        (["text,score,report,label", "ok,0.5,other,toxic"], 1, "label", "no gold label"),
        (
            ["text,score,report,model_version", "a,0.5,other,m1", "b,0.5,other,m2"],
            2,
            "model_version",
            "differs from 'm1' (row 1)",
        ),
    ],
)
def test_bad_rows_are_refused_naming_file_row_and_field_and_nothing_is_written(
    project: Project, lines: list[str], row: int, field: str, message: str
) -> None:
    counts = (Item.objects.count(), ItemImport.objects.count(), FeedbackBatch.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        feedback_import(project=project, source="bad.csv", content=csv_bytes(*lines))
    error = caught.value.extra["errors"][0]
    assert (error["file"], error["row"], error["field"]) == ("bad.csv", row, field), error
    assert message in error["message"]
    assert caught.value.message.startswith(f"bad.csv: row {row}, field '{field}'")
    assert (Item.objects.count(), ItemImport.objects.count(), FeedbackBatch.objects.count()) == counts


def test_jsonl_and_gzip_read_like_the_import_and_a_broken_line_is_named(project: Project) -> None:
    batch = feedback_import(project=project, source="f.jsonl.gz", content=gzip.compress(known_jsonl("m-1")))
    assert batch.rows == 10 and batch.model_version == "m-1"
    broken = known_jsonl() + b"{not json\n"
    with pytest.raises(ValidationFailed, match=r"row 11, field '\(line\)': not valid JSON"):
        feedback_import(project=project, source="f.jsonl", content=broken)
    with pytest.raises(
        ValidationFailed,
        match=r"row 1, field 'model_version': 'm-1' differs from 'm-2' \(the batch's model_version\)",
    ):
        feedback_import(project=project, source="g.jsonl", content=known_jsonl("m-1"), model_version="m-2")


def test_an_external_id_taken_by_other_content_is_refused(project: Project) -> None:
    content = csv_bytes("text,external_id,score,report", "other words,c1,0.4,other")
    with pytest.raises(ValidationFailed, match="row 1, field 'external_id'"):
        feedback_import(project=project, source="f.csv", content=content)
    assert not FeedbackBatch.objects.exists()


def test_only_binary_toxicity_projects_and_published_releases_are_accepted(fake_gateway: FakeGateway) -> None:
    multilabel = factories.project("toxicity_multilabel")
    with pytest.raises(ValidationFailed, match="need a toxicity_binary project"):
        feedback_import(project=multilabel, source="f.jsonl", content=known_jsonl())
    binary = factories.project()
    with pytest.raises(ValidationFailed, match="release: project has no published release 3") as caught:
        feedback_import(project=binary, source="f.jsonl", content=known_jsonl(), release_version=3)
    assert caught.value.extra["fields"] == {"release": ["no such published release"]}


def test_the_command_imports_and_names_the_bad_row(project: Project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.jsonl"
    good.write_bytes(known_jsonl())
    out = io.StringIO()
    call_command("import_feedback", str(project.id), str(good), "--model-version", "m-3", stdout=out)
    batch = FeedbackBatch.objects.get(project=project)
    assert f"Feedback batch {batch.id}: 10 rows, 10 new items" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("text,score,report", "fine,2,other"))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"bad.csv: row 1, field 'score'"):
        call_command("import_feedback", project.name, str(bad), stderr=err)
    assert "bad.csv: row 1, score: must be a number in [0, 1]" in err.getvalue()


def test_the_sample_is_stratified_by_report_and_score_bin() -> None:
    reports = ["fp"] * 60 + ["fn"] * 30 + ["other"] * 10
    scores = [0.95] * 40 + [0.55] * 20 + [0.05] * 30 + [0.5] * 10
    positions, strata = stratified_sample(reports, scores, size=20, bins=5, rng=np.random.default_rng(0))
    taken = {(s.report, s.bin): s.taken for s in strata}
    assert taken == {("fp", 4): 8, ("fn", 0): 6, ("fp", 2): 4, ("other", 2): 2}
    assert len(positions) == len(set(positions)) == 20
    for p in positions:  # every position is drawn from its own stratum
        assert taken[(reports[p], score_bin(scores[p], 5))] > 0
    again, _ = stratified_sample(reports, scores, size=20, bins=5, rng=np.random.default_rng(0))
    assert again == positions  # the stored seed replays the draw
    small, strata = stratified_sample(reports, scores, size=3, bins=5, rng=np.random.default_rng(1))
    assert [s.taken for s in strata] == [1, 1, 1, 0]  # the largest strata get one each first
    with pytest.raises(ValidationFailed, match="bins: 1 to 100"):
        stratified_sample(reports, scores, size=3, bins=0, rng=np.random.default_rng(1))


def test_queueing_the_sample_opens_one_relabel_campaign_under_the_current_guideline(
    project: Project, fake_gateway: FakeGateway
) -> None:
    batch = feedback_import(project=project, source="f.jsonl", content=known_jsonl())
    with pytest.raises(ValidationFailed, match="no published guideline"):
        feedback_sample_queue(batch=batch, size=4, seed=1)
    guideline_publish(project=project, text="v1", note="first", author=None)
    v2 = guideline_publish(project=project, text="v2", note="insults count", author=None)
    with pytest.raises(ValidationFailed, match="size must be an integer in"):
        feedback_sample_queue(batch=batch, size=0, seed=1)
    batch = feedback_sample_queue(batch=batch, size=6, bins=2, seed=7)
    campaign = RelabelCampaign.objects.get(id=batch.campaign_id)
    assert campaign.version == v2
    assert batch.sample is not None and batch.sample["size"] == 6 and batch.sample["seed"] == 7
    assert {s["report"] for s in batch.sample["strata"] if s["taken"]} == {
        "user_flagged_false_positive",
        "user_flagged_false_negative",
        "other",
    }
    progress = campaign_progress(campaign)
    assert progress["counts"]["queued"] == 6
    follow_ups = [t for t in fake_gateway.tasks.values() if t.data.get("relabel_campaign") == campaign.id]
    assert len(follow_ups) == 6 and {t.data["guideline_version"] for t in follow_ups} == {2}
    # The campaign module's meaning: an item's old label is its older answers' consensus, none
    # for these items, new to the project (an answer will make them "labeled").
    assert {t["old_label"] for t in progress["tasks"]} == {None}
    with pytest.raises(Conflict, match="already has its sample queued"):
        feedback_sample_queue(batch=batch, size=2, seed=1)


@pytest.mark.usefixtures("hashed_features")
def test_a_later_batch_on_relabeled_texts_compares_with_their_older_labels(
    project: Project, fake_gateway: FakeGateway
) -> None:
    """The campaign is the campaigns' own (``campaign_open`` over the sample's item ids): a text
    answered under v1 comes back with that consensus as its old label and ends changed or
    unchanged under v2; a text already answered under v2 is left out of the next campaign."""
    guideline_publish(project=project, text="v1", note="first", author=None)
    first = feedback_sample_queue(
        batch=feedback_import(project=project, source="a.jsonl", content=known_jsonl()), size=10, seed=1
    )
    v1_labels = known_labels(project)
    assert answer_open_tasks(fake_gateway, project, annotator(fake_gateway, 1), v1_labels) == 9
    annotations_reconcile(project=project)
    assert campaign_progress(first.campaign)["counts"]["labeled"] == 9

    guideline_publish(project=project, text="v2", note="insults count", author=None)
    second = feedback_sample_queue(
        batch=feedback_import(project=project, source="b.jsonl", content=known_jsonl()), size=10, seed=2
    )
    assert second.created_count == 0 and second.linked_count == 10  # the same texts, linked
    tasks = {t["item_id"]: t for t in campaign_progress(second.campaign)["tasks"]}
    assert len(tasks) == 10
    assert {i: t["old_label"] for i, t in tasks.items()} == v1_labels  # None: never answered
    flipped = {i: ("toxic" if v == "non-toxic" else "non-toxic") if v else None for i, v in v1_labels.items()}
    v2_labels = {i: flipped[i] if n % 2 else v1_labels[i] for n, i in enumerate(sorted(v1_labels))}
    v2_labels[next(i for i, v in v1_labels.items() if v is None)] = "toxic"
    # 11: the first campaign's task of the text nobody answered is still open too.
    assert answer_open_tasks(fake_gateway, project, annotator(fake_gateway, 2), v2_labels) == 11
    annotations_reconcile(project=project)
    counts = campaign_progress(second.campaign)["counts"]
    changed = sum(1 for i, v in v1_labels.items() if v is not None and v2_labels[i] != v)
    assert counts == {
        "queued": 0,
        "changed": changed,
        "unchanged": 9 - changed,
        "labeled": 1,
        "done": 10,
        "total": 10,
    }
    assert 0 < changed < 9

    with pytest.raises(ValidationFailed, match="already has an answer under the current version"):
        feedback_sample_queue(
            batch=feedback_import(project=project, source="c.jsonl", content=known_jsonl()), size=10, seed=3
        )


def test_the_batch_drift_check_is_the_audits_check_of_its_import(
    project: Project,
    hashed_features,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    factories.toxicity_items(project, 12)  # comment number 0..11: 9 new
    with django_capture_on_commit_callbacks(execute=True):
        batch = feedback_import(project=project, source="f.jsonl", content=known_jsonl() + known_jsonl_more())
    check = DriftCheck.objects.get(item_import_id=batch.item_import_id)
    assert (
        check.side_a == f"before:{batch.item_import_id}" and check.side_b == f"import:{batch.item_import_id}"
    )
    assert check.status == DriftCheck.Status.DONE and check.n_b == 12 and check.n_a == 12
    drift = triage_report(batch)["drift"]
    assert drift["status"] == "done" and drift["verdict"] == check.verdict and drift["check_id"] == check.id
    assert drift["n_b"] == 12 and drift["linked_items_left_out"] == 0


def known_jsonl_more() -> bytes:
    return b"".join(
        f'{{"text": "another production text {i}", "score": 0.4, "report": "other"}}\n'.encode()
        for i in range(2)
    )
