"""Drift between two sources of a project's items, and the check that runs after every import.

A source is named as text: ``import:ID`` (the items an import brought in: imports are the
batches, :class:`~workbench.projects.models.ItemImport`), ``before:ID`` (every item of the
imports before that one), or ``release:V`` (the items a published release drew from: the
project's items created before the release with at least one counted answer; the release's own
filter-policy exclusions are not replayed). Labels are compared only when every item of both
sides has one (the consensus of counted answers, else the gold label).

A side over 20,000 items is tested on a seeded uniform sample of them (MAX_SIDE_ITEMS).

Features: the rounds' embedding cache when every text of both sides is in it (the items were
embedded by a round), otherwise the library's hashed TF-IDF; the stored check says which.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

import active_learning as al
import audits
from workbench import votes
from workbench.audits import reports, selectors
from workbench.audits.models import DriftCheck
from workbench.audits.services.identity import identity_ensure
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item, ItemImport, Project
from workbench.releases.models import Release
from workbench.rounds import embeddings

SOURCE = re.compile(r"^(import|before|release):([0-9]{1,12})$")
MIN_SIDE = 10  # the classifier test cross-validates 5 folds; fewer items tell nothing
# A larger side is tested on a uniform sample of this many items (seeded by the check's seed):
# the two-sample tests gain little past a few thousand items per side, and a million-item import
# must not load a million texts into the audit worker. Only the ids (8 bytes each) are read whole.
MAX_SIDE_ITEMS = 20_000
LOAD_CHUNK = 2000


@dataclasses.dataclass
class Side:
    name: str
    item_ids: list[int]  # the tested items: all of the source's, or a sample of MAX_SIDE_ITEMS
    texts: list[str]
    labels: list[int | None]
    total: int  # items in the source


def _items(project: Project, source: str, field: str) -> Any:
    match = SOURCE.match(source)
    if not match:
        raise ValidationFailed(
            f"{field}: '{source}' is not a source; use import:ID, before:ID or release:VERSION.",
            extra={"field": field},
        )
    what, number = match.group(1), int(match.group(2))
    rows = Item.objects.filter(project=project)
    if what in ("import", "before"):
        if not ItemImport.objects.filter(project=project, id=number).exists():
            raise ValidationFailed(f"{field}: project has no import {number}.", extra={"field": field})
        return rows.filter(source_id=number) if what == "import" else rows.filter(source_id__lt=number)
    release = Release.objects.filter(project=project, version=number, status=Release.Status.PUBLISHED).first()
    if release is None:
        raise ValidationFailed(f"{field}: project has no published release {number}.", extra={"field": field})
    labeled = votes.counted_answers(project=project, spec=kinds.spec_of(project.kind))
    return rows.filter(created_at__lte=release.created_at, id__in=list(labeled))


def _sample_ids(items: Any, rng: np.random.Generator) -> tuple[list[int], int]:
    """The source's item ids (streamed), or a sorted uniform sample of ``MAX_SIDE_ITEMS`` of them;
    and how many items the source has."""
    ids = np.fromiter(items.order_by("id").values_list("id", flat=True).iterator(chunk_size=10_000), np.int64)
    if len(ids) > MAX_SIDE_ITEMS:
        return np.sort(rng.choice(ids, size=MAX_SIDE_ITEMS, replace=False)).tolist(), len(ids)
    return ids.tolist(), len(ids)


def _side(project: Project, source: str, field: str, rng: np.random.Generator) -> Side:
    spec = kinds.spec_of(project.kind)
    items = _items(project, source, field)
    ids, total = _sample_ids(items, rng)
    rows: list[tuple[int, Any, Any]] = []
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start : start + LOAD_CHUNK]
        rows.extend(Item.objects.filter(id__in=chunk).order_by("id").values_list("id", "data", "gold"))
    counted = votes.counted_answers(project=project, spec=spec, item_ids=ids)
    labels: list[int | None] = []
    for item_id, _, gold in rows:
        decided = votes.consensus(spec, [a.label for a in counted.get(item_id, [])])
        label = (
            decided
            if decided is not None
            else spec.normalized(gold if not isinstance(gold, list) else tuple(gold))
        )
        labels.append(None if label is None else _code(spec, label))
    return Side(source, ids, [" ".join(spec.texts(r[1])) for r in rows], labels, total)


def _code(spec: kinds.KindSpec, label: kinds.Label) -> int:
    if spec.multiple:
        return int("toxic" in label)
    return spec.code(str(label))


def _features(a: Side, b: Side) -> tuple[Any, Any, str]:
    try:
        feat = embeddings.featurizer()
        cache = al.FileEmbeddingCache(settings.EMBEDDINGS_DIR, feat.model_id, feat.dim)
        keys = al.content_keys(a.texts + b.texts)
        if len(cache) and bool(cache.contains(keys).all()):
            vectors = np.asarray(cache.get(keys), dtype=np.float32)
            return vectors[: len(a.texts)], vectors[len(a.texts) :], f"embedding cache ({feat.model_id})"
    except (ValidationFailed, OSError, ValueError):
        pass  # no usable cache: the hashed features need none
    fa, fb = audits.hashed_tfidf_pair(a.texts, b.texts)
    return fa, fb, "hashed TF-IDF (word 1-2 grams, 2^18 features)"


def drift_check_run(
    *,
    project: Project,
    side_a: str,
    side_b: str,
    trigger: DriftCheck.Trigger | str,
    item_import: ItemImport | None = None,
    seed: int = 0,
) -> DriftCheck:
    """Run and store the drift check between two sources (``side_a`` the reference)."""
    sampling = np.random.default_rng([seed, 1])  # its own stream: the report's draws stay as they were
    a, b = _side(project, side_a, "side_a", sampling), _side(project, side_b, "side_b", sampling)
    base: dict[str, Any] = {
        "project": project,
        "trigger": trigger,
        "side_a": side_a,
        "side_b": side_b,
        "n_a": a.total,
        "n_b": b.total,
    }
    if min(len(a.item_ids), len(b.item_ids)) < MIN_SIDE:
        sizes = f"{side_a}: {len(a.item_ids)}, {side_b}: {len(b.item_ids)}"
        reason = f"a side has fewer than {MIN_SIDE} items ({sizes})"
        return _store(item_import, {**base, "status": DriftCheck.Status.SKIPPED, "reason": reason})
    identity_ensure(project=project, item_ids=a.item_ids + b.item_ids)
    groups = selectors.groups_of(project=project, item_ids=a.item_ids + b.item_ids)
    names = sorted({g for item_groups in groups.values() for g in item_groups})
    fa, fb, used = _features(a, b)
    with_labels = all(v is not None for v in a.labels + b.labels)
    try:
        report = audits.drift_report(
            fa,
            fb,
            rng=np.random.default_rng(seed),
            labels_a=np.array(a.labels, dtype=np.int64) if with_labels else None,
            labels_b=np.array(b.labels, dtype=np.int64) if with_labels else None,
            lengths_a=np.array([len(t) for t in a.texts], dtype=np.float64),
            lengths_b=np.array([len(t) for t in b.texts], dtype=np.float64),
            groups_a={g: np.array([g in groups.get(i, ()) for i in a.item_ids]) for g in names} or None,
            groups_b={g: np.array([g in groups.get(i, ()) for i in b.item_ids]) for g in names} or None,
        )
    except ValueError as exc:
        raise ValidationFailed(f"Drift check {side_a} vs {side_b}: {exc}") from exc
    body = reports.clean(report)
    body["labels_compared"] = with_labels
    body["tested_a"], body["tested_b"] = len(a.item_ids), len(b.item_ids)  # below n_a / n_b: a sample
    clf = report.classifier
    body["most_a_items"] = [a.item_ids[p] for p in clf.most_a]
    body["most_b_items"] = [b.item_ids[p] for p in clf.most_b]
    body["most_a_texts"] = [a.texts[p][:200] for p in clf.most_a[:5]]
    body["most_b_texts"] = [b.texts[p][:200] for p in clf.most_b[:5]]
    fields = {
        **base,
        "status": DriftCheck.Status.DONE,
        "verdict": report.verdict,
        "reason": "; ".join(report.reasons),
        "features": used,
        "report": body,
    }
    return _store(item_import, fields)


def _store(item_import: ItemImport | None, fields: dict[str, Any]) -> DriftCheck:
    with transaction.atomic():
        if item_import is None:
            return DriftCheck.objects.create(**fields)
        check, _ = DriftCheck.objects.update_or_create(item_import=item_import, defaults=fields)
        return check


def reference_of(item_import: ItemImport) -> str:
    """What an import is compared with: the latest published release, else the earlier imports."""
    release = (
        Release.objects.filter(project=item_import.project, status=Release.Status.PUBLISHED)
        .order_by("-version")
        .first()
    )
    return f"release:{release.version}" if release else f"before:{item_import.id}"
