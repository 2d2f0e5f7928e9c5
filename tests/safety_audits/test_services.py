"""The audits wired to the workbench's data: identity groups per item after every import, the
drift check of each import, a round's fairness audit and model card, the label-side audit."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audits import roc_auc
from tests import factories
from tests.safety_audits.helpers import biased_annotations, identity_project, identity_records, model_round
from workbench.audits.models import DriftCheck, FairnessAudit, ItemIdentity
from workbench.audits.selectors import drift_of_last_import, group_counts
from workbench.audits.services.drift import drift_check_run
from workbench.audits.services.fairness import fairness_audit_run
from workbench.audits.services.identity import audit_settings_update, identity_assign
from workbench.audits.services.labels import label_audit_run
from workbench.errors import ValidationFailed
from workbench.projects.models import Item, ItemImport
from workbench.projects.services import items_import_records

# transaction=True: the import's on-commit hook runs (Celery is eager in tests).
pytestmark = pytest.mark.django_db(transaction=True)


def test_every_import_assigns_lexicon_groups_and_checks_drift_against_the_earlier_imports(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    project, items = identity_project(100)
    first = ItemImport.objects.get(project=project)
    assert ItemIdentity.objects.filter(project=project).count() == 100
    counts = group_counts(project=project)
    assert counts == {"christian": 20, "female": 20, "homosexual_gay_or_lesbian": 20, "muslim": 20}
    first_check = DriftCheck.objects.get(item_import=first)
    assert first_check.status == "skipped" and "before:" in first_check.side_a  # nothing earlier

    # A second batch from the same distribution: tested, and not an input shift.
    items_import_records(project=project, records=identity_records(100, seed=1, start=100))
    check = drift_of_last_import(project=project)
    assert check is not None and check.status == "done", check and check.reason
    assert check.side_a == f"before:{check.item_import_id}" and check.n_a == 100 and check.n_b == 100
    assert check.verdict == "no shift", check.reason
    assert check.features.startswith("hashed TF-IDF")  # nothing embedded yet
    assert check.report["labels_compared"] is True  # gold on every item

    # A batch of long, different comments: inputs shifted.
    other = [
        {"text": f"Quarterly revenue of the shipping company rose {i} percent in the northern region"}
        for i in range(60)
    ]
    items_import_records(project=project, records=other)
    shifted = drift_of_last_import(project=project)
    assert shifted is not None and shifted.verdict == "inputs shifted", shifted.reason
    assert shifted.report["labels_compared"] is False  # the new batch is unlabeled


def test_identity_columns_named_in_the_settings_decide_the_groups(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    audit_settings_update(project=project, identity_columns=["id_muslim", "id_women"], identity_threshold=0.5)
    items_import_records(project=project, records=identity_records(50))
    rows = ItemIdentity.objects.filter(project=project)
    assert {r.source for r in rows} == {"columns"}
    assert group_counts(project=project) == {"id_muslim": 10, "id_women": 10}
    assert identity_assign(project=project) == {"id_muslim": 10, "id_women": 10}  # idempotent
    assert rows.count() == 50


def test_a_word_in_an_identity_column_is_reported_with_the_item_and_column(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    audit_settings_update(project=project, identity_columns=["female"])
    items_import_records(project=project, records=[{"text": f"hello {i}", "female": "yes"} for i in range(3)])
    check = drift_of_last_import(project=project)
    assert check is not None and check.status == "skipped"
    assert "identity column 'female' holds 'yes'" in check.reason


def test_a_project_lexicon_replaces_the_shipped_one(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    audit_settings_update(project=project, lexicon={"bridge": "engineers", "photo": "artists"})
    items_import_records(project=project, records=identity_records(30))
    assert set(group_counts(project=project)) <= {"engineers", "artists"}
    with pytest.raises(ValidationFailed, match="lexicon"):
        audit_settings_update(project=project, lexicon={"??": "x"})


def test_a_rounds_fairness_audit_has_every_group_with_intervals_or_too_few_and_a_model_card(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    project, items = identity_project(200)
    audit_settings_update(project=project, min_count=3)
    round_ = model_round(project, items)
    assert len(round_.validation_scores["item_ids"]) == round_.validation_size
    audit = fairness_audit_run(round_=round_)
    report = audit.report
    assert report["n_items"] == round_.validation_size
    assert report["threshold"] == pytest.approx(round_.threshold["threshold"])
    groups = {row["group"]: row for row in report["groups"]}
    assert set(groups) == {"christian", "female", "homosexual_gay_or_lesbian", "muslim"}
    for row in groups.values():
        for metric in ("subgroup_auc", "bpsn_auc", "bnsp_auc", "false_positive_rate", "false_negative_rate"):
            cell = row[metric]
            assert cell["too_few"] or (cell["low"] <= cell["value"] <= cell["high"]), (row["group"], metric)
    stored = round_.validation_scores
    assert report["overall_auc"]["value"] == pytest.approx(roc_auc(stored["y"], stored["p"]))
    assert "## Metrics" in audit.model_card and "| homosexual_gay_or_lesbian |" in audit.model_card
    assert round_.model_version in audit.model_card
    again = fairness_audit_run(round_=round_)  # same seed, same report; one row per round
    assert again.report == report and FairnessAudit.objects.filter(round=round_).count() == 1

    audit_settings_update(project=project, min_count=1000)
    strict = fairness_audit_run(round_=round_).report
    assert all(row["subgroup_auc"]["too_few"] for row in strict["groups"])
    assert "too few items" in FairnessAudit.objects.get(round=round_).model_card


def test_the_label_audit_flags_the_annotator_who_calls_every_gay_mention_toxic(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project, items = identity_project(200)
    biased_annotations(items)
    audit = label_audit_run(project=project)
    flagged = [(t["annotator"], t["group"]) for t in audit.report["flagged"]]
    assert flagged == [("ls-user-3003", "homosexual_gay_or_lesbian")]
    evidence = audit.report["flagged"][0]
    assert evidence["direction"] == "over" and evidence["k_group"] > 0
    assert {g["group"] for g in audit.report["groups"]} >= {"muslim", "homosexual_gay_or_lesbian"}


def test_drift_on_demand_between_two_imports_and_bad_sources_name_the_field(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project, _ = identity_project(60)
    items_import_records(project=project, records=identity_records(60, seed=5, start=60))
    a, b = ItemImport.objects.filter(project=project).order_by("id")
    check = drift_check_run(project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api")
    assert check.status == "done" and check.n_a == 60 and check.n_b == 60 and check.item_import is None
    with pytest.raises(ValidationFailed, match="side_b: project has no published release 4"):
        drift_check_run(project=project, side_a=f"import:{a.id}", side_b="release:4", trigger="api")
    with pytest.raises(ValidationFailed, match="side_a: 'yesterday' is not a source"):
        drift_check_run(project=project, side_a="yesterday", side_b=f"import:{b.id}", trigger="api")


def test_the_commands_print_groups_fairness_and_flagged_annotators(fake_gateway, capsys) -> None:  # type: ignore[no-untyped-def]
    project, items = identity_project(200)
    audit_settings_update(project=project, min_count=3)
    call_command("audit_identity", project.name)
    assert "muslim: 40" in capsys.readouterr().out
    model_round(project, items)
    call_command("audit_fairness", project.name, "--round", "1")
    out = capsys.readouterr().out
    assert "round 1:" in out and "muslim (" in out and "BPSN" in out
    call_command("audit_fairness", project.name, "--card")
    assert "# Model card:" in capsys.readouterr().out
    call_command("audit_labels", project.name)
    assert "items with counted answers" in capsys.readouterr().out


def test_a_releases_datasheet_links_the_rounds_model_card_and_carries_the_label_audit_and_drift(
    fake_gateway, settings
) -> None:  # type: ignore[no-untyped-def]
    from workbench.releases.selectors import release_datasheet
    from workbench.releases.services import release_build, release_create

    settings.PUBLIC_URL = "https://workbench.example"
    project, items = identity_project(200)
    audit_settings_update(project=project, min_count=3)
    round_ = model_round(project, items)
    release = release_create(project=project, created_by=None, tag="before-audit")
    release_build(release_id=release.id)
    release.refresh_from_db()
    assert release.status == "published", release.error
    before = release_datasheet(release=release) or ""
    assert f"Round {round_.number} ({round_.model_version}) has no fairness audit yet" in before
    assert "No label-side audit was run" in before

    fairness_audit_run(round_=round_)
    label_audit_run(project=project)
    items_import_records(project=project, records=identity_records(40, seed=2, start=200))
    second = release_create(project=project, created_by=None, tag="audited")
    release_build(release_id=second.id)
    second.refresh_from_db()
    text = release_datasheet(release=second) or ""
    card = f"https://workbench.example/audits/projects/{project.id}/rounds/{round_.id}/model-card.md"
    assert "## Model card" in text and card in text
    assert "## Label-side audit" in text and "Audit of 100 items" in text
    check = drift_of_last_import(project=project)
    assert (
        check is not None and f"**{check.verdict}**" in text and f"against release:{release.version}" in text
    )


def test_drift_uses_the_rounds_embedding_cache_once_a_round_embedded_the_items(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project, _ = identity_project(100)
    items_import_records(project=project, records=identity_records(60, seed=5, start=100))
    a, b = ItemImport.objects.filter(project=project).order_by("id")
    before = drift_check_run(project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api")
    assert before.features.startswith("hashed TF-IDF")
    round_ = model_round(project, list(Item.objects.filter(project=project).order_by("id")))
    after = drift_check_run(project=project, side_a=f"import:{a.id}", side_b=f"import:{b.id}", trigger="api")
    assert after.features == f"embedding cache ({round_.parameters['featurizer']})"
    assert after.status == "done" and 0.0 <= after.report["classifier"]["auc"] <= 1.0


TOXIC_VERBS = ("hate", "kill", "punch", "attack", "hurt")


def test_identity_swapped_validation_pairs_get_their_score_gaps(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    verbs = ["hug", "thank", "hate", "kill", "meet", "punch", "respect", "attack", "help", "hurt"]
    records = [
        {"text": f"{verb} {adj} {term}", "label": "toxic" if verb in TOXIC_VERBS else "non-toxic"}
        for verb in verbs
        for adj in ("every", "that", "this", "my")
        for term in ("muslim", "christian", "jewish", "gay")
    ]
    items_import_records(project=project, records=records)
    audit_settings_update(project=project, min_count=3)
    round_ = model_round(project, list(Item.objects.filter(project=project).order_by("id")))
    audit = fairness_audit_run(round_=round_)
    cf = audit.report["counterfactual"]
    assert cf["n_pairs"] > 0 and cf["lexicon"] == "workbench-identity-terms 1.0.0"
    scores = dict(zip(round_.validation_scores["item_ids"], round_.validation_scores["p"], strict=True))
    texts = dict(Item.objects.filter(project=project).values_list("id", "data__text"))
    for pair in cf["largest"]:
        a, b = texts[pair["item_a"]].split(), texts[pair["item_b"]].split()
        assert a[:2] == b[:2] and a[2] != b[2]  # the same text, the identity term swapped
        assert pair["gap"] == pytest.approx(scores[pair["item_b"]] - scores[pair["item_a"]])
    largest = max(abs(p["gap"]) for p in cf["largest"])
    assert cf["quantiles"]["1"] == pytest.approx(largest)
    assert "identity-swapped validation pairs" in audit.model_card


def test_audit_project_drift_compares_two_imports_and_stores_the_check(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project, _ = identity_project(100)
    items_import_records(project=project, records=identity_records(100, seed=1, start=100))
    first, second = ItemImport.objects.filter(project=project).order_by("id")
    out = io.StringIO()
    call_command("audit_project_drift", project.name, f"import:{first.id}", f"import:{second.id}", stdout=out)
    check = DriftCheck.objects.filter(project=project, trigger="command").get()
    assert (check.n_a, check.n_b, check.status) == (100, 100, "done")
    assert f"verdict: {check.verdict}" in out.getvalue()
    with pytest.raises(CommandError, match="side_a"):
        call_command("audit_project_drift", project.name, "last week", f"import:{second.id}")
