"""A toxicity project whose items mention identity groups, with gold labels, a model round and
annotators (one of them biased against one group)."""

from __future__ import annotations

import random

from tests import factories
from tests.rounds.helpers import annotate
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_run, round_start

TOXIC = ["idiot", "stupid", "moron", "loser", "pathetic"]
CLEAN = ["thanks", "source", "edit", "article", "photo", "bridge", "talk", "page"]
GROUPS = ["muslim", "gay", "christian", "women"]


def identity_records(n: int, *, seed: int = 0, start: int = 0) -> list[dict[str, object]]:
    """Comments a third toxic; each mentions one of four identity words (or none), and carries the
    same group as 0/1 identity columns (Civil Comments style)."""
    rng = random.Random(seed)
    records = []
    for i in range(start, start + n):
        toxic = i % 3 == 0
        words = rng.sample(CLEAN, 3)
        if rng.random() < (0.8 if toxic else 0.1):
            words.append(rng.choice(TOXIC))
        group = GROUPS[i % 5] if i % 5 < 4 else None
        if group:
            words.append(group)
        rng.shuffle(words)
        record: dict[str, object] = {
            "text": " ".join(words) + f" {i}",
            "external_id": f"i{i}",
            "label": "toxic" if toxic else "non-toxic",
        }
        for g in GROUPS:
            record[f"id_{g}"] = 1 if g == group else 0
        records.append(record)
    return records


def identity_project(n: int = 200) -> tuple[Project, list[Item]]:
    project = factories.project()
    items_import_records(project=project, records=identity_records(n))
    return project, list(Item.objects.filter(project=project).order_by("id"))


def model_round(project: Project, items: list[Item]) -> Round:
    """A margin round trained on gold-labelled answers, with a 40% validation slice."""
    round_config_update(project=project, validation_percent=40)
    for item in items[: len(items) // 2]:
        annotate(item, item.gold)
    round_ = round_start(project=project, trigger="command", strategy="margin", batch_size=10, seed=3)
    round_run(round_id=round_.id)
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    return round_


def biased_annotations(items: list[Item], *, group_word: str = "gay") -> None:
    """Three annotators per item: two honest, one (ls user 3003) calls every mention of the group toxic."""
    for item in items:
        annotate(item, item.gold, ls_user_id=3001)
        annotate(item, item.gold, ls_user_id=3002)
        biased = group_word in item.data["text"].split()
        annotate(item, "toxic" if biased else item.gold, ls_user_id=3003)
