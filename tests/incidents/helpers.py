"""Builders for the incident tests: a feedback file with known answers, and an annotator who
answers every open task of a project from a table (item id -> label), skipping the others."""

from __future__ import annotations

import json
from collections.abc import Mapping

from tests.fakes import FakeGateway
from workbench.projects.models import Item, Project

# (report, score, the label under the current guideline or None: never relabeled). With the
# default threshold 0.5: TP rows 3, 7; FP rows 0, 1, 2; TN rows 6, 8; FN rows 4, 5.
KNOWN = [
    ("user_flagged_false_positive", 0.9, "non-toxic"),
    ("user_flagged_false_positive", 0.95, "non-toxic"),
    ("user_flagged_false_positive", 0.85, "non-toxic"),
    ("user_flagged_false_positive", 0.92, "toxic"),
    ("user_flagged_false_negative", 0.2, "toxic"),
    ("user_flagged_false_negative", 0.1, "toxic"),
    ("user_flagged_false_negative", 0.15, "non-toxic"),
    ("other", 0.6, "toxic"),
    ("other", 0.3, "non-toxic"),
    ("other", 0.7, None),
]


def known_text(i: int) -> str:
    return f"production comment {i:02d} about the weather and the match"


def known_jsonl(model_version: str = "") -> bytes:
    rows = [
        {"text": known_text(i), "score": score, "report": report, "note": f"user note {i}"}
        | ({"model_version": model_version} if model_version else {})
        for i, (report, score, _) in enumerate(KNOWN)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def known_labels(project: Project) -> dict[int, str | None]:
    by_text = dict(Item.objects.filter(project=project).values_list("data__text", "id"))
    return {by_text[known_text(i)]: label for i, (_, _, label) in enumerate(KNOWN)}


def annotator(gateway: FakeGateway, n: int) -> str:
    email = f"triage{n}@example.test"
    gateway.create_user(email=email, password="pw-123456789", first_name="T", last_name=str(n))
    return gateway.user_token(email=email, password="pw-123456789")


def answer_open_tasks(
    gateway: FakeGateway, project: Project, token: str, answers: Mapping[int, str | None]
) -> int:
    """Answer each task the queue serves by its item's label in ``answers``; skip the rest."""
    done = 0
    while (task := gateway.next_task(project_id=project.ls_id(), user_token=token)) is not None:
        value = answers.get(task.data["item_id"])
        if value is None:
            gateway.skip_task(task_id=task.id, user_token=token)
            continue
        result = [
            {"from_name": "toxicity", "to_name": "text", "type": "choices", "value": {"choices": [value]}}
        ]
        gateway.submit_annotation(task_id=task.id, result=result, lead_time=1.0, user_token=token)
        done += 1
    return done
