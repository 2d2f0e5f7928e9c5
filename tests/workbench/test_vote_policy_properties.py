"""Property test of the vote policy on PostgreSQL: random vote histories (several annotators,
re-answers such as review answers, cancellations, Label Studio update times that disagree with
the order the rows were stored in), and for every item the dashboard's consensus, the label-issue
input, the round's training target (where it does not abstain) and the release label agree under
the same method; and an item's label depends only on its own votes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.quality.preference import preference_records
from tests.workbench.vote_histories import dashboard_and_issue_labels, release_labels, training_targets, vote
from workbench import votes
from workbench.projects.kinds import Kind, spec_of
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records

pytestmark = pytest.mark.django_db

N_ITEMS = 4
ANNOTATORS = (11, 12, 13, 14)
MULTI_CHOICES = ("toxic", "obscene", "insult")  # few categories, so ties are common


def labels_of(kind: Kind) -> st.SearchStrategy[Any]:
    if kind is Kind.TOXICITY_MULTILABEL:
        return st.lists(st.sampled_from(MULTI_CHOICES), unique=True, max_size=3).map(sorted)
    return st.sampled_from(spec_of(kind).labels)


@st.composite
def histories(draw: st.DrawFn, kind: Kind, n_items: int) -> list[dict[str, Any]]:
    """Annotations in the order they are stored. Each: item, annotator, label, cancelled, and
    Label Studio's created / updated minutes (unrelated to the storing order)."""
    events = st.fixed_dictionaries(
        {
            "item": st.integers(0, n_items - 1),
            "user": st.sampled_from(ANNOTATORS),
            "label": labels_of(kind),
            "cancelled": st.integers(0, 3).map(lambda n: n == 0),
            "created": st.integers(0, 50),
            "later": st.integers(0, 50),  # updated = created + later
        }
    )
    return draw(st.lists(events, min_size=1, max_size=14))


def make_project(kind: Kind) -> tuple[Project, list[Item]]:
    project = factories.project(kind.value, annotators_per_item=2)
    if kind is Kind.PREFERENCE:
        records: list[dict[str, Any]] = preference_records(N_ITEMS * 2)
    else:
        records = [{"text": f"comment {i} about things", "external_id": f"c{i}"} for i in range(N_ITEMS * 2)]
    items_import_records(project=project, records=records)
    return project, list(Item.objects.filter(project=project).order_by("id"))


def store(items: list[Item], history: list[dict[str, Any]]) -> None:
    for event in history:
        vote(
            items[event["item"]],
            event["user"],
            event["label"],
            created_minutes=event["created"],
            minutes=event["created"] + event["later"],
            cancelled=event["cancelled"],
        )


def as_label(kind: Kind, value: Any) -> Any:
    return tuple(value) if kind is Kind.TOXICITY_MULTILABEL and value is not None else value


def labels_everywhere(project: Project, kind: Kind) -> dict[str, dict[int, Any]]:
    dashboard, issues = dashboard_and_issue_labels(project)
    return {
        "dashboard": {i: as_label(kind, v) for i, v in dashboard.items()},
        "issues": {i: as_label(kind, v) for i, v in issues.items()},
        "release": {i: as_label(kind, v) for i, v in release_labels(project).items()},
        "training": training_targets(project),
    }


def counted(kind: Kind, items: list[Item], history: list[dict[str, Any]]) -> dict[int, list[Any]]:
    """An independent reading of "which answers count": per item and annotator, the newest
    non-cancelled answer by Label Studio's update time, then its id (ids grow as rows are stored)."""
    newest: dict[tuple[int, int], tuple[tuple[int, int], Any]] = {}
    for stored, event in enumerate(history):
        if event["cancelled"]:
            continue
        key = (event["created"] + event["later"], stored)  # ids grow with storing order
        slot = (event["item"], event["user"])
        if slot not in newest or key > newest[slot][0]:
            newest[slot] = (key, event["label"])
    spec = spec_of(kind)
    per_item: dict[int, list[Any]] = {}
    for (item, _), (_, label) in sorted(newest.items()):
        per_item.setdefault(items[item].id, []).append(spec.normalized(label))
    return per_item


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), kind=st.sampled_from(list(Kind)))
def test_every_reader_gives_an_item_the_same_label_from_its_own_votes_only(
    fake_gateway, settings_hashed, data: st.DataObject, kind: Kind
) -> None:  # type: ignore[no-untyped-def]
    spec = spec_of(kind)
    project, items = make_project(kind)
    history = data.draw(histories(kind, N_ITEMS), label="history")
    store(items, history)

    seen = labels_everywhere(project, kind)
    answers = counted(kind, items, history)
    want = {item_id: votes.consensus(spec, labels) for item_id, labels in answers.items()}
    assert None not in want.values()  # the consensus rules never abstain
    assert seen["dashboard"] == seen["issues"] == seen["release"] == want
    for item_id, target in seen["training"].items():
        assert target == spec.target(want[item_id])  # training agrees where it does not abstain
    for item_id in set(want) - set(seen["training"]):  # and abstains only on a tie
        assert spec.training_ties == "abstain"
        assert votes.decide(spec, answers[item_id], rule="abstain") is None

    # Votes on *other* items (the project's second half) never change these items' labels.
    others = data.draw(histories(kind, N_ITEMS), label="other items")
    store(items[N_ITEMS:], others)
    after = labels_everywhere(project, kind)
    for reader, labels in seen.items():
        assert {i: after[reader].get(i) for i in labels} == labels, reader


@pytest.fixture
def settings_hashed(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    return settings
