"""Builders for quality tests: separable toxic / non-toxic texts, annotators with error rates,
and label flips injected into every annotator's answer."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractUser

from tests import factories
from workbench.accounts.models import Role
from workbench.annotations.models import Annotation
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records, items_push

_ls_ids = itertools.count(10_000)
_ann_ids = itertools.count(1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

TOXIC = [
    "you stupid idiot",
    "shut up moron",
    "what a pathetic loser",
    "idiot moron trash",
    "go away stupid loser",
]
CLEAN = [
    "thanks for the help",
    "have a lovely day",
    "great point friend",
    "i agree with this edit",
    "nice work thanks",
]


def separable_items(project: Project, n: int) -> list[Item]:
    records = []
    for i in range(n):
        toxic = i % 2 == 0
        words = (TOXIC if toxic else CLEAN)[i % 5]
        records.append(
            {
                "text": f"{words} number {i}",
                "external_id": f"x{i}",
                "label": "toxic" if toxic else "non-toxic",
            }
        )
    items_import_records(project=project, records=records)
    items_push(project=project)
    return list(Item.objects.filter(project=project).order_by("id"))


def annotators(n: int) -> list[AbstractUser]:
    users = []
    for _ in range(n):
        user = factories.user(Role.ANNOTATOR)
        user.account.ls_user_id = next(_ls_ids)
        user.account.save()
        users.append(user)
    return users


def other(label: str) -> str:
    return "non-toxic" if label == "toxic" else "toxic"


def annotate(
    project: Project,
    items: Sequence[Item],
    users: Sequence[AbstractUser],
    error_rates: Sequence[float],
    *,
    flipped: set[int] = frozenset(),  # type: ignore[assignment]
    seed: int = 0,
    start: datetime = T0,
) -> None:
    """Every annotator labels every item: the gold label, wrong with its error rate; items in
    ``flipped`` get the wrong label from everybody (a consistent, injected label error)."""
    rng = random.Random(seed)
    rows = []
    for n, item in enumerate(items):
        for user, rate in zip(users, error_rates, strict=True):
            label = item.gold if rng.random() >= rate else other(item.gold)
            if item.id in flipped:
                label = other(item.gold)
            at = start + timedelta(days=n // 10 * 7, minutes=n)
            rows.append(
                Annotation(
                    project=project,
                    item=item,
                    annotator=user,
                    ls_annotation_id=next(_ann_ids),
                    ls_user_id=user.account.ls_user_id,
                    label=label,
                    lead_time=5.0 + rng.random() * 10,
                    ls_created_at=at,
                    ls_updated_at=at,
                    source="reconcile",
                    synced_at=at,
                )
            )
    Annotation.objects.bulk_create(rows)
