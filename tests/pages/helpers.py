"""A project with a history to show: a cold-start round, two model rounds with validation
scores, and two published releases with a relabel between them."""

from __future__ import annotations

import random

from django.contrib.auth.models import AbstractUser

from tests import factories
from tests.rounds.helpers import annotate, annotate_with_gold
from workbench.projects.models import Item, Project
from workbench.projects.services import items_import_records
from workbench.releases.models import Release
from workbench.releases.services import release_build, release_create
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update, round_run, round_start

WORDS_TOXIC = ["idiot", "stupid", "moron", "loser", "pathetic"]
WORDS_CLEAN = ["thanks", "source", "edit", "article", "photo", "bridge", "talk", "page"]


def noisy_pool(project: Project, n: int, seed: int = 0) -> list[Item]:
    """n items, a third toxic, whose words only mostly give the label away (a model gets some
    wrong, so metrics have spread): a toxic word in 75% of toxic and 15% of clean comments."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        toxic = i % 3 == 0
        words = rng.sample(WORDS_CLEAN, 3)
        if rng.random() < (0.75 if toxic else 0.15):
            words.append(rng.choice(WORDS_TOXIC))
        rng.shuffle(words)
        records.append(
            {
                "text": " ".join(words) + f" {i}",
                "external_id": f"n{i}",
                "label": "toxic" if toxic else "non-toxic",
            }
        )
    items_import_records(project=project, records=records)
    return list(Item.objects.filter(project=project).order_by("id"))


def _round(project: Project, strategy: str, seed: int) -> Round:
    round_ = round_start(
        project=project, trigger="command", strategy=strategy, batch_size=10, buffer_size=5, seed=seed
    )
    round_run(round_id=round_.id)  # unless its on-commit task already ran it
    round_.refresh_from_db()
    assert round_.status == "done", round_.error
    return round_


def _release(project: Project, owner: AbstractUser, tag: str) -> Release:
    release = release_create(project=project, created_by=owner, tag=tag)
    release_build(release_id=release.id)  # unless its on-commit task already built it
    release.refresh_from_db()
    assert release.status == "published", release.error
    return release


def project_with_history(owner: AbstractUser) -> tuple[Project, list[Round], list[Release]]:
    project = factories.project(owner=owner)
    items = noisy_pool(project, 150)
    round_config_update(project=project, validation_percent=30, cost_fp=1.0, cost_fn=5.0)
    rounds = [_round(project, "seed_keyword", 1)]
    annotate_with_gold(items[:40])
    rounds.append(_round(project, "margin", 2))
    first = _release(project, owner, "first")
    annotate_with_gold(items[40:80])
    annotate(items[4], "toxic", ls_user_id=2002)
    annotate(items[4], "toxic", ls_user_id=2003)  # items[4] is non-toxic by gold: relabeled
    rounds.append(_round(project, "margin", 3))
    second = _release(project, owner, "second")
    return project, rounds, [first, second]
