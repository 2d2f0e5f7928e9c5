from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from workbench.annotations.models import Annotation
from workbench.projects.models import Item

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.RELEASES_DIR = tmp_path / "releases"
    return Path(settings.RELEASES_DIR)


def annotate(item: Item, ls_user_id: int, label: Any, *, cancelled: bool = False) -> Annotation:
    """An annotation as sync would store it (one per item and annotator; a second call relabels)."""
    now = timezone.now()
    existing = Annotation.objects.filter(item=item, ls_user_id=ls_user_id).first()
    if existing is not None:
        existing.label, existing.ls_updated_at, existing.synced_at = label, now, now
        existing.save()
        return existing
    return Annotation.objects.create(
        project=item.project,
        item=item,
        ls_annotation_id=next(_ids) + 100_000,
        ls_user_id=ls_user_id,
        label=None if cancelled else label,
        was_cancelled=cancelled,
        ls_created_at=now,
        ls_updated_at=now,
        source=Annotation.Source.WEBHOOK,
        synced_at=now,
    )
