"""Graded preference (issue 11, preference strength): the 7-point config, its answers parsed in
the one parser with the side flip, the project's choice of config at creation, ingest storing the
direction in ``label`` and the strength beside it, and the consensus strength (fast: fake
gateway)."""

from __future__ import annotations

import itertools

import pytest

from tests import factories
from tests.quality.preference import preference_records
from workbench import votes
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.annotations.simulation import SimulatedAnnotator, simulate
from workbench.errors import ValidationFailed
from workbench.projects import kinds, sides
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, items_push, project_create

GRADED = "preference_graded.xml"

# Every graded choice, on both recorded orders: the stored (label, strength). "Response 1" is
# response_a when the item was shown "ab" and response_b when shown "ba".
EXPECTED = {
    ("Response 1 much better", "ab"): ("A", 3),
    ("Response 1 better", "ab"): ("A", 2),
    ("Response 1 slightly better", "ab"): ("A", 1),
    ("Tie", "ab"): ("tie", 0),
    ("Response 2 slightly better", "ab"): ("B", 1),
    ("Response 2 better", "ab"): ("B", 2),
    ("Response 2 much better", "ab"): ("B", 3),
    ("Response 1 much better", "ba"): ("B", 3),
    ("Response 1 better", "ba"): ("B", 2),
    ("Response 1 slightly better", "ba"): ("B", 1),
    ("Tie", "ba"): ("tie", 0),
    ("Response 2 slightly better", "ba"): ("A", 1),
    ("Response 2 better", "ba"): ("A", 2),
    ("Response 2 much better", "ba"): ("A", 3),
}


def test_the_graded_config_offers_the_seven_point_scale_in_order() -> None:
    interface = kinds.interface("preference", GRADED)
    assert interface.graded and interface.config_name == GRADED
    assert interface.choices == (
        "Response 1 much better",
        "Response 1 better",
        "Response 1 slightly better",
        "Tie",
        "Response 2 slightly better",
        "Response 2 better",
        "Response 2 much better",
    )
    assert 'value="$response_1"' in interface.xml and "response_a" not in interface.xml
    assert not kinds.interface("preference").graded


@pytest.mark.parametrize(("choice", "order"), sorted(EXPECTED))
def test_every_grade_maps_back_through_the_side_flip(choice: str, order: str) -> None:
    interface = kinds.interface("preference", GRADED)
    parsed = interface.answer_from(interface.result_for_choice(choice), sides=order)
    assert (parsed.label, parsed.strength) == EXPECTED[(choice, order)]
    assert interface.label_from(interface.result_for_choice(choice), sides=order) == parsed.label
    # and back: the choice an annotator clicks to give that label and strength on that order
    label, strength = EXPECTED[(choice, order)]
    assert interface.result_for(label, sides=order, strength=strength) == interface.result_for_choice(choice)


def test_the_side_flip_of_a_grade_is_the_same_grade_for_the_other_response() -> None:
    for (choice, order), (label, strength) in EXPECTED.items():
        other = "ba" if order == "ab" else "ab"
        flipped = {"A": "B", "B": "A", "tie": "tie"}[label]
        assert EXPECTED[(choice, other)] == (flipped, strength)


def test_graded_and_plain_answers_are_refused_by_the_other_config() -> None:
    graded, plain = kinds.interface("preference", GRADED), kinds.interface("preference")
    with pytest.raises(kinds.ConfigError, match="unknown choice"):
        graded.answer_from(plain.result_for_choice("1"), sides="ab")
    with pytest.raises(kinds.ConfigError, match="unknown choice"):
        plain.answer_from(graded.result_for_choice("Tie"), sides="ab")
    with pytest.raises(kinds.ConfigError, match="no recorded sides"):
        graded.answer_from(graded.result_for_choice("Tie"), sides="")
    with pytest.raises(kinds.ConfigError, match="needs a strength"):
        graded.result_for("A", sides="ab")
    with pytest.raises(kinds.ConfigError, match="not on the scale"):
        graded.result_for("tie", sides="ab", strength=2)
    with pytest.raises(kinds.ConfigError, match="not graded"):
        plain.result_for("A", sides="ab", strength=2)
    assert plain.answer_from(plain.result_for_choice("2"), sides="ba") == kinds.ParsedAnswer("A", None)


def test_only_the_preference_kind_offers_the_graded_config() -> None:
    assert kinds.config_for("preference", None) == "preference.xml"
    assert kinds.config_for("preference", GRADED) == GRADED
    with pytest.raises(kinds.ConfigError, match="valid: toxicity_binary.xml"):
        kinds.config_for("toxicity_binary", GRADED)


@pytest.mark.django_db
def test_a_project_chooses_its_config_at_creation(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    graded = project_create(name="graded pairs", kind="preference", label_config=GRADED)
    plain = project_create(name="plain pairs", kind="preference")
    assert (graded.label_config_name, plain.label_config_name) == (GRADED, "preference.xml")
    assert graded.label_config_sha256 == kinds.interface("preference", GRADED).sha256
    assert fake_gateway.projects[graded.ls_id()].label_config == kinds.interface("preference", GRADED).xml
    assert kinds.interface_of(graded).graded and not kinds.interface_of(plain).graded
    with pytest.raises(ValidationFailed, match="'preference_graded.xml' is not a labeling config"):
        project_create(name="graded toxicity", kind="toxicity_binary", label_config=GRADED)
    assert not type(graded).objects.filter(name="graded toxicity").exists()
    assert len(fake_gateway.projects) == 2  # nothing made in Label Studio for the refused one


@pytest.mark.django_db
def test_the_api_creates_a_graded_project_and_names_a_bad_config(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    client = factories.api_client(factories.user())
    made = client.post(
        "/api/projects/",
        {"name": "graded via api", "kind": "preference", "label_config": GRADED},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["label_config_name"] == GRADED
    wrong = client.post(
        "/api/projects/",
        {"name": "graded toxicity", "kind": "toxicity_binary", "label_config": GRADED},
        format="json",
    )
    assert wrong.status_code == 400
    assert "is not a labeling config of toxicity_binary" in wrong.json()["message"]
    unknown = client.post(
        "/api/projects/", {"name": "odd config", "kind": "preference", "label_config": "x.xml"}, format="json"
    )
    assert unknown.status_code == 400 and "label_config" in str(unknown.json())


@pytest.mark.django_db(transaction=True)  # simulated annotators work in threads
@pytest.mark.usefixtures("fake_gateway")
def test_ingest_stores_the_direction_in_label_and_the_strength_beside_it() -> None:
    project = project_create(
        name="graded ingest", kind="preference", annotators_per_item=2, label_config=GRADED
    )
    items_import_records(project=project, records=preference_records(30))
    items_push(project=project)
    annotators = [SimulatedAnnotator(f"g{n}@workbench.local", 0.0) for n in range(2)]
    assert simulate(project=project, annotators=annotators, seed=5).total == 60
    annotations_reconcile(project=project)
    rows = list(Annotation.objects.filter(project=project))
    assert len(rows) == 60
    gold = dict(Item.objects.filter(project=project).values_list("id", "gold"))
    sides_of = dict(Item.objects.filter(project=project).values_list("id", "sides"))
    interface = kinds.interface_of(project)
    for row in rows:
        assert row.label == gold[row.item_id]  # error-free annotators: the direction is the gold one
        assert row.strength in (1, 2, 3)
        # the stored pair is exactly what the one parser makes of the raw result
        parsed = interface.answer_from(row.result, sides=sides_of[row.item_id])
        assert (parsed.label, parsed.strength) == (row.label, row.strength)
    assert len({row.strength for row in rows}) == 3
    counted = votes.counted_answers(project=project, spec=interface.spec)
    assert {a.strength for answers in counted.values() for a in answers} == {1, 2, 3}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fake_gateway")
def test_an_ungraded_project_stores_no_strength() -> None:
    project = factories.project("preference")
    items_import_records(project=project, records=preference_records(6))
    items_push(project=project)
    annotator = SimulatedAnnotator("p@workbench.local", 0.0)
    assert simulate(project=project, annotators=[annotator], seed=1).total == 6
    annotations_reconcile(project=project)
    assert list(Annotation.objects.filter(project=project).values_list("strength", flat=True)) == [None] * 6


@pytest.mark.parametrize(
    ("direction", "graded", "expected"),
    [
        ("A", [("A", 3), ("A", 1), ("B", 1)], 1.0),  # median of +3, +1, -1
        ("B", [("B", 3), ("B", 2), ("A", 3)], 2.0),  # median of -3, -2, +3, read toward B
        ("A", [("A", 3), ("A", 2)], 2.5),  # an even count: the mean of the middle two
        ("A", [("A", 2), ("A", 2), ("tie", 0), ("tie", 0), ("B", 3)], 0.0),  # ties pull it to 0
        ("B", [("A", 1), ("A", 1), ("B", 3)], 0.0),  # a direction the votes do not share: floored
        ("tie", [("A", 2), ("B", 2)], None),  # no chosen side, no strength
        ("A", [("A", None), ("A", None)], None),  # ungraded votes
        (None, [], None),
    ],
)
def test_the_consensus_strength_is_the_median_signed_strength_in_the_consensus_direction(
    direction: str | None, graded: list[tuple[str, int | None]], expected: float | None
) -> None:
    assert votes.consensus_strength(direction, graded) == expected


def test_with_the_vote_policys_direction_the_median_never_points_the_other_way() -> None:
    spec = kinds.spec_of("preference")
    scale = [("A", s) for s in (1, 2, 3)] + [("B", s) for s in (1, 2, 3)] + [("tie", 0)]
    for n in (1, 2, 3, 4, 5):
        for combo in itertools.combinations_with_replacement(scale, n):
            direction = votes.consensus(spec, [label for label, _ in combo])
            if direction in ("A", "B"):
                signed = sorted(votes.signed_strength(label, s) or 0 for label, s in combo)
                middle = (signed[(n - 1) // 2] + signed[n // 2]) / 2
                assert (middle if direction == "A" else -middle) >= 0, combo
                strength = votes.consensus_strength(direction, list(combo))
                assert strength is not None and 0 <= strength <= sides.MAX_STRENGTH
