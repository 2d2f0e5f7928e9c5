"""Position bias on a preference project (fast: fake gateway, hashed features): an annotator who
always picks the first-shown response gives labels spread over A and B (the sides are random),
and the quality run flags them; the audits are in the run summary, the API and the dashboard."""

from __future__ import annotations

from collections import Counter

import pytest
from scipy.stats import binomtest

from tests import factories
from tests.factories import api_client
from tests.quality.preference import preference_records
from workbench.accounts.models import Role
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import SimulatedAnnotator, simulate
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push
from workbench.quality.models import AnnotatorQuality
from workbench.quality.services import quality_compute

pytestmark = pytest.mark.django_db(transaction=True)  # simulated annotators work in threads

LEFTY = SimulatedAnnotator("lefty@workbench.local", error_rate=0.0, first_shown_rate=1.0)
HONEST = [SimulatedAnnotator(f"honest-{n}@workbench.local", error_rate=e) for n, e in ((1, 0.1), (2, 0.2))]


@pytest.fixture
def run(fake_gateway):  # type: ignore[no-untyped-def]
    project = factories.project("preference", annotators_per_item=3)
    items_import_records(
        project=project,
        records=[{**r, "source_split": f"split-{n % 2}"} for n, r in enumerate(preference_records(60))],
    )
    items_push(project=project)
    # One annotator at a time: the in-memory fake gateway is not thread-safe.
    for annotator in (LEFTY, *HONEST):
        assert simulate(project=project, annotators=[annotator], seed=5).total == 60
    annotations_reconcile(project=project)
    return quality_compute(project=project)


def test_a_first_shown_picker_gives_labels_over_a_and_b_and_is_flagged(run) -> None:  # type: ignore[no-untyped-def]
    assert run.status == "done", run.error
    project = run.project
    lefty = AnnotatorQuality.objects.get(project=project, annotator__username=LEFTY.email)
    labels = Counter(
        Annotation.objects.filter(project=project, annotator__username=LEFTY.email).values_list(
            "label", flat=True
        )
    )
    assert labels["A"] >= 10 and labels["B"] >= 10, labels
    assert lefty.flagged and any("first-shown response in 60 of 60" in f for f in lefty.flags), lefty.flags
    audit = run.summary["preference_audit"]
    rows = {r["ls_user_id"]: r for r in audit["annotators"]}
    assert rows[lefty.ls_user_id]["first_shown"]["share"] == 1.0
    for honest in HONEST:
        row = AnnotatorQuality.objects.get(project=project, annotator__username=honest.email)
        first = rows[row.ls_user_id]["first_shown"]
        # The flag is exactly the binomial test's verdict at the audit's level.
        flagged = bool(binomtest(first["k"], first["n"], 0.5).pvalue < audit["alpha"])
        assert first["flagged"] is flagged
        assert any("first-shown" in f for f in row.flags) is flagged
    assert audit["position"]["n_items_with_sides"] == 60
    assert Item.objects.filter(project=project, sides="").count() == 0


def test_the_length_audit_is_split_by_source_column_and_shown_on_the_dashboard(run, client) -> None:  # type: ignore[no-untyped-def]
    audit = run.summary["preference_audit"]
    overall = audit["longer_chosen"]["overall"]
    assert overall["n"] > 0 and overall["ci_low"] <= overall["share"] <= overall["ci_high"]
    by_split = {g["value"]: g for g in audit["longer_chosen"]["by_source"]["source_split"]}
    assert set(by_split) == {"split-0", "split-1"}
    assert sum(g["n"] for g in by_split.values()) == overall["n"]
    assert sum(b["n_items"] for b in audit["agreement_by_length_ratio"]) == 60

    admin = factories.user(Role.ADMIN)
    api = api_client(admin).get(f"/api/projects/{run.project.id}/quality/").json()
    assert api["summary"]["preference_audit"]["position"]["n_flagged"] >= 1
    client.force_login(admin)
    page = client.get(f"/quality/projects/{run.project.id}/").content.decode()
    assert "Preference audits" in page and "Longer response chosen" in page
    assert 'data-annotator="lefty@workbench.local"' in page and "POSITION BIAS" in page
