"""Small builders for service and API tests (through the services, so invariants hold)."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from workbench.accounts.models import Role
from workbench.accounts.services import user_create
from workbench.projects.models import Project
from workbench.projects.services import items_import_records, project_create

_counter = itertools.count(1)


def user(role: Role = Role.ML_ENGINEER) -> AbstractUser:
    return user_create(email=f"{role.value}-{next(_counter)}@example.test", role=role)


def project(
    kind: str = "toxicity_binary", *, owner: AbstractUser | None = None, annotators_per_item: int = 1
) -> Project:
    return project_create(
        name=f"{kind} project {next(_counter)}",
        kind=kind,
        annotators_per_item=annotators_per_item,
        created_by=owner,
    )


def toxicity_items(project: Project, n: int) -> None:
    items_import_records(
        project=project,
        records=[
            {
                "text": f"comment number {i}",
                "external_id": f"c{i}",
                "label": "toxic" if i % 3 == 0 else "non-toxic",
            }
            for i in range(n)
        ],
    )


def api_client(user: AbstractUser) -> APIClient:
    """A DRF test client authenticated with the user's API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return client


def multilabel_records(n: int = 150) -> list[dict[str, object]]:
    """Jigsaw-shaped records a model learns at once: every second item is toxic, every fourth
    also an insult, and the text says so."""
    from workbench.projects.kinds import JIGSAW_LABELS

    records: list[dict[str, object]] = []
    for i in range(n):
        toxic, insult = i % 2 == 0, i % 4 == 0
        text = (
            ("you idiot " if insult else "")
            + ("stupid garbage " if toxic else "thanks for the edit ")
            + str(i)
        )
        flags = {
            name: int(name == "toxic" and toxic or name == "insult" and insult) for name in JIGSAW_LABELS
        }
        records.append({"text": text, "external_id": f"m{i}", **flags})
    return records


def preference_records(n: int) -> list[dict[str, object]]:
    """Pairs a model learns at once: the helpful answer is A on odd rows and B on even ones."""
    return [
        {
            "prompt": f"question {i}",
            "response_a": f"a careful helpful answer {i}" if i % 2 else f"rude useless reply {i}",
            "response_b": f"rude useless reply {i}" if i % 2 else f"a careful helpful answer {i}",
            "label": "A" if i % 2 else "B",
            "external_id": f"p{i}",
        }
        for i in range(n)
    ]
