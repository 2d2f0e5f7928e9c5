"""Issue 9 end to end on PostgreSQL with the real Label Studio, driven as a person would: an ML
engineer names the identity columns, imports real bias-madlibs rows with those columns, pushes
them, simulated annotators label in Label Studio (webhooks to the live workbench, then
reconciliation), a round trains, and a second batch is imported. Then the round's fairness page,
the drift verdict of the last import and the round's model card are there."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests import factories
from tests.factories import api_client
from workbench.accounts.models import Role
from workbench.audits.models import DriftCheck, ItemIdentity
from workbench.labelstudio.types import Gateway
from workbench.projects.models import Item, ItemImport
from workbench.projects.services import project_create
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
GROUPS = ("gay", "muslim", "christian", "jewish")

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def madlibs_file(path: Path, terms: tuple[str, ...], per_term: int) -> int:
    """Real bias-madlibs rows (``per_term`` of each term), with Civil-Comments style 0/1 identity
    columns named after GROUPS."""
    wanted = dict.fromkeys(terms, per_term)
    rows = []
    with gzip.open(DATA / "identity_bias_madlibs_sample.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            term = row["identity_term"]
            if wanted.get(term, 0) > 0:
                wanted[term] -= 1
                rows.append(
                    {
                        "madlib_id": row["madlib_id"],
                        "text": row["text"],
                        "toxic": row["toxic"],
                        **{g: int(term == g) for g in GROUPS},
                    }
                )
    assert not any(wanted.values()), wanted
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["madlib_id", "text", "toxic", *GROUPS])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


@pytest.fixture(autouse=True)
def _hashed_features(hashed_features):  # type: ignore[no-untyped-def]
    """Every test here: the cheap featurizer and private folders (tests/conftest.py)."""


def test_identity_columns_a_round_and_a_second_batch_give_fairness_drift_and_a_model_card(
    real_gateway: Gateway,
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.PUBLIC_URL = live_server.url  # Label Studio delivers webhooks to this test's workbench
    engineer = factories.user(Role.ML_ENGINEER)
    project = project_create(
        name=f"test audits {uuid.uuid4().hex[:8]}", kind="toxicity_binary", created_by=engineer
    )
    try:
        client = api_client(engineer)
        settings_url = f"/api/projects/{project.id}/audits/settings/"
        changed = client.patch(
            settings_url, {"identity_columns": list(GROUPS), "min_count": 3}, format="json"
        )
        assert changed.status_code == 200, changed.json()
        round_config_update(project=project, validation_percent=40)

        n = madlibs_file(tmp_path / "batch1.csv", GROUPS, 30)
        columns = json.dumps({"external_id": "madlib_id"})
        out = run("import_items", project.name, str(tmp_path / "batch1.csv"), "--columns", columns)
        assert f"{n} items imported from {n} rows" in out
        # The import's hook assigned every item its groups from the columns.
        assert ItemIdentity.objects.filter(project=project, source="columns").count() == n
        summary = client.get(f"/api/projects/{project.id}/audits/identity/").json()
        assert summary["counts"] == dict.fromkeys(sorted(GROUPS), 30)

        assert "90 items pushed to Label Studio." in run("push_items", project.name, "--limit", "90")
        out = run(
            "simulate_annotators", project.name, "--annotators", "1", "--error-rate", "0", "--seed", "3"
        )
        assert out.splitlines()[-1] == "90 annotations submitted.", out
        run("reconcile_annotations", project.name)
        out = run("start_round", project.name, "--strategy", "margin", "--batch-size", "5", "--seed", "4")
        round_ = Round.objects.get(project=project)
        assert round_.status == "done", (out, round_.error)
        assert round_.validation_size and len(round_.validation_scores["item_ids"]) == round_.validation_size

        out = run("audit_fairness", project.name)
        assert f"round {round_.number}: {round_.validation_size} validation items" in out
        assert all(f"  {g} (" in out for g in GROUPS), out

        # A second batch, of other identity terms: checked against the first at import.
        m = madlibs_file(tmp_path / "batch2.csv", ("sikh", "queer"), 30)
        run("import_items", project.name, str(tmp_path / "batch2.csv"), "--columns", columns)
        second = ItemImport.objects.filter(project=project).order_by("-id").first()
        check = DriftCheck.objects.get(item_import=second)
        assert check.status == "done", check.reason
        assert (check.side_a, check.n_a, check.n_b) == (f"before:{second.id}", n, m)
        assert check.verdict in ("no shift", "inputs shifted", "labels shifted", "inputs and labels shifted")

        pages = Client()
        pages.force_login(engineer)
        dashboard = pages.get(f"/audits/projects/{project.id}/").content.decode()
        assert f"Import {second.id} (import:{second.id}, {m} items)" in dashboard
        assert f'<b class="verdict">{check.verdict}</b>' in dashboard
        fairness = pages.get(f"/audits/projects/{project.id}/rounds/{round_.id}/").content.decode()
        assert all(f'<tr data-group="{g}">' in fairness for g in GROUPS)
        assert 'id="fairness-plot"' in fairness and "Model card:" in fairness
        # Bias-madlibs texts differ only in the identity term: swapped pairs are found and scored.
        counterfactual = client.get(f"/api/projects/{project.id}/audits/rounds/{round_.id}/fairness/").json()
        assert counterfactual["report"]["counterfactual"]["n_pairs"] > 0
        assert "identity-swapped pairs among the validation items" in fairness
        card = pages.get(f"/audits/projects/{project.id}/rounds/{round_.id}/model-card.md")
        assert card.status_code == 200
        body = card.content.decode()
        assert body.startswith(f"# Model card: {project.name} toxicity classifier {round_.model_version}")
        assert all(f"| {g} |" in body for g in GROUPS)
        api_card = client.get(f"/api/projects/{project.id}/audits/rounds/{round_.id}/model-card/")
        assert api_card.content.decode() == body
        assert Item.objects.filter(project=project).count() == n + m
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)
