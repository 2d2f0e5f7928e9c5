"""Randomised sides of preference pairs (fast: fake gateway): the order is drawn per item,
recorded before the push, shown in the task, and every answer maps back to the item's own
response_a / response_b."""

from __future__ import annotations

from collections import Counter

import pytest

from tests import factories
from tests.quality.preference import preference_records
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import SimulatedAnnotator, simulate
from workbench.projects import kinds, sides
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push


def test_the_draw_is_reproducible_and_balanced() -> None:
    drawn = [sides.draw(project_id=3, item_id=i) for i in range(2000)]
    assert drawn == [sides.draw(project_id=3, item_id=i) for i in range(2000)]
    assert 900 < drawn.count("ab") < 1100
    assert drawn != [sides.draw(project_id=4, item_id=i) for i in range(2000)]


@pytest.mark.parametrize(("order", "first", "second"), [("ab", "A", "B"), ("ba", "B", "A")])
def test_an_answer_on_the_shown_sides_maps_back_to_the_items_own_responses(
    order: str, first: str, second: str
) -> None:
    assert sides.stored_label("1", order) == first
    assert sides.stored_label("2", order) == second
    assert sides.stored_label("tie", order) == "tie"
    for label in ("A", "B", "tie"):
        assert sides.stored_label(sides.shown_choice(label, order), order) == label
    assert sides.chose_first_shown(first, order) is True
    assert sides.chose_first_shown(second, order) is False
    assert sides.chose_first_shown("tie", order) is None


def test_the_task_shows_response_1_and_2_in_the_recorded_order_without_a_and_b() -> None:
    data = {"prompt": "p", "response_a": "alpha", "response_b": "beta", "source_split": "x"}
    shown = sides.shown_data(data, "ba")
    assert shown == {
        "prompt": "p",
        "response_1": "beta",
        "response_2": "alpha",
        "sides": "ba",
        "source_split": "x",
    }


def test_an_answer_without_recorded_sides_is_refused_with_the_reason() -> None:
    interface = kinds.interface("preference")
    with pytest.raises(kinds.ConfigError, match="no recorded sides"):
        interface.label_from(interface.result_for_choice("1"), sides="")
    with pytest.raises(kinds.ConfigError, match="unknown choice"):
        interface.label_from([{"from_name": "preference", "value": {"choices": ["A"]}}], sides="ab")


@pytest.mark.django_db
def test_push_records_the_sides_on_the_item_and_the_task_shows_them(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(project=project, records=preference_records(40))
    items_push(project=project)
    items = list(Item.objects.filter(project=project))
    assert {i.sides for i in items} == {"ab", "ba"}
    for item in items:
        assert item.sides == sides.draw(project_id=project.id, item_id=item.id)
        task = fake_gateway.tasks[item.ls_task_id].data
        first = item.data["response_a"] if item.sides == "ab" else item.data["response_b"]
        assert (task["response_1"], task["sides"], task["item_id"]) == (first, item.sides, item.id)
        assert "response_a" not in task and "response_b" not in task


@pytest.mark.django_db(transaction=True)  # simulated annotators work in threads
def test_an_annotator_who_always_picks_the_first_shown_gives_labels_spread_over_a_and_b(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(project=project, records=preference_records(40))
    items_push(project=project)
    lefty = SimulatedAnnotator("lefty@workbench.local", error_rate=0.0, first_shown_rate=1.0)
    assert simulate(project=project, annotators=[lefty], seed=1).total == 40
    # Label Studio's task data is editable by any member: ingest must go by the item's record.
    for task in fake_gateway.tasks.values():
        task.data["sides"] = "ab"
    annotations_reconcile(project=project)

    stored = dict(Annotation.objects.filter(project=project).values_list("item_id", "label"))
    recorded = dict(Item.objects.filter(project=project).values_list("id", "sides"))
    assert len(stored) == 40
    assert all(stored[i] == ("A" if recorded[i] == "ab" else "B") for i in stored)
    counts = Counter(stored.values())
    assert counts["A"] >= 10 and counts["B"] >= 10, counts


@pytest.mark.django_db(transaction=True)
def test_an_honest_simulated_annotator_answers_the_gold_label_through_the_shown_sides(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    items_import_records(project=project, records=preference_records(20))
    items_push(project=project)
    honest = SimulatedAnnotator("honest@workbench.local", error_rate=0.0)
    report = simulate(project=project, annotators=[honest], seed=1)
    annotations_reconcile(project=project)
    assert report.total == 20 and report.wrong[honest.email] == 0
    gold = dict(Item.objects.filter(project=project).values_list("id", "gold"))
    assert all(gold[i] == label for i, label in Annotation.objects.values_list("item_id", "label"))


@pytest.mark.django_db
def test_the_import_report_names_pairs_with_nearly_identical_responses(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project("preference")
    records = [
        {
            "prompt": "p0",
            "response_a": "Sure,  here it is.\n",
            "response_b": "Sure, here it is.",
            "external_id": "same",
        },
        {
            "prompt": "p1",
            "response_a": "a different answer",
            "response_b": "nothing alike at all",
            "external_id": "ok",
        },
        {
            "prompt": "p2",
            "response_a": "I cannot help with that request at all, sorry.",
            "response_b": "I cannot help with that request at all, sorry!",
            "external_id": "near",
        },
    ]
    report = items_import_records(project=project, records=records)
    assert report.created == 3 and report.near_identical == 2
    assert [(r["row"], r["external_id"]) for r in report.near_identical_rows] == [(1, "same"), (3, "near")]
    assert report.near_identical_rows[0]["reason"] == "equal text"
    assert report.near_identical_rows[1]["reason"].startswith("character similarity")


@pytest.mark.django_db
def test_the_import_api_returns_the_near_identical_pairs(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import api_client

    owner = factories.user()
    project = factories.project("preference", owner=owner)
    body = {"items": [{"prompt": "p", "response_a": "same words", "response_b": " same  words "}]}
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["near_identical"] == 1
    assert response.json()["near_identical_rows"][0]["reason"] == "equal text"
