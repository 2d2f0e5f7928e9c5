"""Graded preference end to end through the real Label Studio (issue 11): a project created with
the 7-point config, two annotators who answer on the shown sides ("Response 2 much better"),
answers stored with the right direction (checked against the text each task showed, not against
the parser's table) and strength, and a release whose TRL files carry ``margin`` = the median of
the counted votes' strengths, in exactly TRL's reward-trainer columns, ties left out and counted."""

from __future__ import annotations

import json
import statistics
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.integration.test_preference_sides_label_studio import pairs
from workbench.accounts.services import annotator_create
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records, items_push, project_create
from workbench.releases.models import Release
from workbench.releases.services import release_create

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]

WORDS = {"much better": 3, "better": 2, "slightly better": 1}
# Per item number: (first annotator's choice, second annotator's choice).
PLAN = {
    0: ("Response 1 much better", "Response 1 slightly better"),
    1: ("Response 2 better", "Response 2 much better"),
    2: ("Tie", "Tie"),
    3: ("Response 1 better", "Response 1 better"),
    4: ("Response 2 slightly better", "Response 2 slightly better"),
    5: ("Response 1 much better", "Response 1 much better"),
}


def expected_answer(choice: str, shown: dict[str, str], item: Item) -> tuple[str, int]:
    """What a graded choice means about the item's own responses, read from the text the task
    showed: the response shown under the chosen heading is A or B."""
    if choice == "Tie":
        return "tie", 0
    side, words = choice.removeprefix("Response ")[0], choice[len("Response 1 ") :]
    chosen = shown["response_1" if side == "1" else "response_2"]
    return ("A" if chosen == item.data["response_a"] else "B"), WORDS[words]


def answer_all(
    gateway: Gateway, project: Project, email: str, password: str, which: int
) -> dict[int, tuple[str, int]]:
    """One annotator's pass through the real queue, clicking their column of PLAN; the stored
    answer each click should give, per item id."""
    token = gateway.user_token(email=email, password=password)
    interface = kinds.interface_of(project)
    expected = {}
    while (task := gateway.next_task(project_id=project.ls_id(), user_token=token)) is not None:
        item = Item.objects.get(id=task.data["item_id"])
        choice = PLAN[int(item.external_id.removeprefix("pair-"))][which]
        expected[item.id] = expected_answer(choice, task.data, item)
        gateway.submit_annotation(
            task_id=task.id, result=interface.result_for_choice(choice), lead_time=3.0, user_token=token
        )
    return expected


def ls_label_config(label_studio, project_id: int) -> str:  # type: ignore[no-untyped-def]
    """The labeling config Label Studio holds for the project (read over its REST API)."""
    request = urllib.request.Request(
        f"{label_studio.url}/api/projects/{project_id}/",
        headers={"Authorization": f"Token {label_studio.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["label_config"])


def test_graded_answers_come_back_with_direction_and_strength_and_export_as_trl_margin(
    real_gateway, label_studio, live_server, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    settings.RELEASES_DIR = tmp_path / "releases"
    project = project_create(
        name=f"graded e2e {uuid.uuid4().hex[:8]}",
        kind="preference",
        annotators_per_item=2,
        label_config="preference_graded.xml",
    )
    try:
        assert (
            ls_label_config(label_studio, project.ls_id()).strip() == kinds.interface_of(project).xml.strip()
        )
        items_import_records(project=project, records=pairs(len(PLAN)))
        # Record both orders before the push (it draws only for items without one), so the
        # answer is mapped through both orders whatever the seeded draw would give.
        for item in Item.objects.filter(project=project):
            item.sides = "ba" if item.external_id in ("pair-0", "pair-1", "pair-4") else "ab"
            item.save(update_fields=["sides"])
        items_push(project=project)
        people = []
        for n in range(2):
            email, password = f"graded-{n}-{uuid.uuid4().hex[:6]}@workbench.local", f"graded-pass-{n}-1"
            annotator_create(email=email, projects=[project], password=password)
            people.append((email, password))
        expected = [answer_all(real_gateway, project, email, pw, n) for n, (email, pw) in enumerate(people)]
        assert all(len(e) == len(PLAN) for e in expected)
        annotations_reconcile(project=project)

        stored = Annotation.objects.filter(project=project)
        assert stored.count() == 2 * len(PLAN)
        for n, (email, _) in enumerate(people):
            for row in stored.filter(annotator__username=email):
                assert (row.label, row.strength) == expected[n][row.item_id]
        release = release_create(
            project=project, created_by=None, formats=["jsonl", "trl", "trl_conversational"]
        )
        release.refresh_from_db()
        assert release.status == Release.Status.PUBLISHED, release.error
        folder = Path(settings.RELEASES_DIR) / str(project.id) / f"v{release.version}"
        rows = [
            json.loads(line)
            for split in ("train", "validation", "test")
            for path in [folder / "trl" / f"{split}.jsonl"]
            if path.exists()
            for line in path.read_text().splitlines()
        ]
        chat = [
            json.loads(line)
            for path in sorted((folder / "trl_conversational").glob("*.jsonl"))
            for line in path.read_text().splitlines()
        ]
        assert len(rows) == len(chat) == len(PLAN) - 1  # the tie is left out
        assert all(list(r) == ["prompt", "chosen", "rejected", "margin"] for r in rows + chat)
        assert all(
            all(list(m) == ["role", "content"] for m in r[name])
            for r in chat
            for name in ("prompt", "chosen", "rejected")
        )
        items = {i.data["prompt"]: i for i in Item.objects.filter(project=project)}
        for row in rows:
            item = items[row["prompt"]]
            answers = [e[item.id] for e in expected]
            direction = answers[0][0]
            assert {label for label, _ in answers} == {direction}  # both annotators agree in PLAN
            assert row["chosen"] == item.data["response_a" if direction == "A" else "response_b"]
            assert row["margin"] == statistics.median(s for _, s in answers)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["stats"]["trl"]["ties_excluded"] == 1 and manifest["stats"]["trl"]["margin"] is True
    finally:
        real_gateway.delete_project(project_id=project.ls_id())
