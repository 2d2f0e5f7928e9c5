"""Builders for round tests: a labeled toxicity pool and annotations applied as sync does."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.utils import timezone

from workbench.annotations.models import Annotation
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records

_ids = itertools.count(1)

TOXIC = ["you are a stupid idiot", "shut up you moron", "I hate you, loser", "what a pathetic dumb take"]
CLEAN = [
    "thanks for the helpful edit",
    "the article cites two sources",
    "see the talk page",
    "nice photo of the bridge",
]


def toxicity_pool(project: Project, n: int) -> list[Item]:
    """n items whose gold follows their text: every third one toxic."""
    records = []
    for i in range(n):
        toxic = i % 3 == 0
        base = TOXIC[i % len(TOXIC)] if toxic else CLEAN[i % len(CLEAN)]
        records.append(
            {"text": f"{base} #{i}", "external_id": f"c{i}", "label": "toxic" if toxic else "non-toxic"}
        )
    items_import_records(project=project, records=records)
    return list(Item.objects.filter(project=project).order_by("id"))


def annotate(item: Item, label: Any, *, ls_user_id: int = 1001, cancelled: bool = False) -> Annotation:
    return Annotation.objects.create(
        project=item.project,
        item=item,
        ls_annotation_id=next(_ids),
        ls_user_id=ls_user_id,
        label=None if cancelled else label,
        was_cancelled=cancelled,
        source=Annotation.Source.RECONCILE,
        synced_at=timezone.now(),
    )


def annotate_with_gold(items: list[Item]) -> None:
    for item in items:
        annotate(item, item.gold)


WORDS = ["river", "stone", "lamp", "paper", "green", "seven", "window", "cloud", "table", "song"]


def coin_flip_pairs(project: Project, n: int, seed: int = 0) -> list[Item]:
    """n preference pairs whose gold side is a coin flip, unrelated to their texts: no model can
    learn it (as HH-RLHF on frozen embeddings)."""
    rng = random.Random(seed)
    records = [
        {
            "prompt": " ".join(rng.sample(WORDS, 3)) + f" {i}?",
            "response_a": " ".join(rng.sample(WORDS, 5)),
            "response_b": " ".join(rng.sample(WORDS, 5)),
            "label": rng.choice(["A", "B"]),
            "external_id": f"p{i}",
        }
        for i in range(n)
    ]
    items_import_records(project=project, records=records)
    return list(Item.objects.filter(project=project).order_by("id"))
