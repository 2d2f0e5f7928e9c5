"""Identity groups per item, and the project settings that say where they come from."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from django.db import transaction

import audits
from workbench.audits import selectors
from workbench.audits.models import AuditSettings, ItemIdentity
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item, ItemImport, Project

CHUNK_ITEMS = 2000
SETTINGS_FIELDS = ("identity_columns", "identity_threshold", "lexicon", "min_count")


def audit_settings_update(*, project: Project, **changes: Any) -> AuditSettings:
    """Change the project's audit settings; a lexicon is checked here (terms, groups) so a bad
    one is refused before any item is matched. ``lexicon=None`` goes back to the shipped one."""
    unknown = sorted(set(changes) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown audit settings {unknown}; valid: {', '.join(SETTINGS_FIELDS)}.")
    if changes.get("lexicon") is not None:
        try:
            audits.lexicon_from_mapping(changes["lexicon"])
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"lexicon: {exc}", extra={"field": "lexicon"}) from exc
    threshold = changes.get("identity_threshold")
    if threshold is not None and not 0 < threshold <= 1:
        raise ValidationFailed(
            f"identity_threshold must be in (0, 1]; got {threshold}.", extra={"field": "identity_threshold"}
        )
    with transaction.atomic():
        config = AuditSettings.objects.select_for_update().filter(project=project).first() or AuditSettings(
            project=project
        )
        for key, value in changes.items():
            setattr(config, key, value)
        config.save()
    return config


def lexicon_of(config: AuditSettings) -> audits.Lexicon:
    if config.lexicon:
        return audits.lexicon_from_mapping(config.lexicon, name="project", version="custom")
    return audits.default_lexicon()


def rule_of(config: AuditSettings) -> str:
    if config.identity_columns:
        return f"columns {','.join(config.identity_columns)} >= {config.identity_threshold:g}"
    lexicon = lexicon_of(config)
    return f"lexicon {lexicon.name} {lexicon.version}"


def _number(value: Any, item: Item, column: str) -> float:
    if value is None or value == "":
        return math.nan  # not annotated
    try:
        return float(value)
    except (TypeError, ValueError):
        where = item.external_id or f"item {item.id}"
        raise ValidationFailed(
            f"{where}: identity column '{column}' holds {value!r}, not a number (0/1 or a fraction).",
            extra={"item_id": item.id, "field": column},
        ) from None


def _assign(
    config: AuditSettings, lexicon: audits.Lexicon | None, items: list[Item]
) -> audits.GroupAssignment:
    if config.identity_columns:
        columns = {
            name: [_number(item.metadata.get(name), item, name) for item in items]
            for name in config.identity_columns
        }
        try:
            return audits.groups_from_columns(columns, threshold=config.identity_threshold)
        except ValueError as exc:
            raise ValidationFailed(f"identity columns: {exc}") from exc
    spec = kinds.spec_of(items[0].project.kind) if items else None
    texts = [" ".join(spec.texts(item.data)) if spec else "" for item in items]
    return audits.groups_from_text(texts, lexicon)


def _chunks(project: Project, item_import: ItemImport | None) -> Iterator[list[Item]]:
    rows = Item.objects.filter(project=project).select_related("project").order_by("id")
    if item_import is not None:
        rows = rows.filter(source=item_import)
    chunk: list[Item] = []
    for item in rows.only("id", "external_id", "data", "metadata", "project").iterator(
        chunk_size=CHUNK_ITEMS
    ):
        chunk.append(item)
        if len(chunk) == CHUNK_ITEMS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def identity_assign(*, project: Project, item_import: ItemImport | None = None) -> dict[str, int]:
    """Compute and store the identity groups of the project's items (or one import's), a chunk
    at a time; running it again overwrites the same rows. Returns the items mentioning each group
    among those computed."""
    config = selectors.audit_settings_get(project=project)
    lexicon = None if config.identity_columns else lexicon_of(config)
    rule = rule_of(config)
    source = ItemIdentity.Source.COLUMNS if config.identity_columns else ItemIdentity.Source.LEXICON
    counts: dict[str, int] = {}
    for chunk in _chunks(project, item_import):
        assignment = _assign(config, lexicon, chunk)
        rows = [
            ItemIdentity(
                item=item,
                project=project,
                groups=sorted(groups),
                terms=list(terms),
                source=source,
                rule=rule,
            )
            for item, groups, terms in zip(chunk, assignment.groups, assignment.terms, strict=True)
        ]
        with transaction.atomic():
            ItemIdentity.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["item"],
                update_fields=["groups", "terms", "source", "rule", "computed_at"],
            )
        for group, n in assignment.counts().items():
            if n:
                counts[group] = counts.get(group, 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def identity_ensure(*, project: Project, item_ids: list[int]) -> None:
    """Assign groups to the project's items if some of ``item_ids`` have none or an outdated rule."""
    config = selectors.audit_settings_get(project=project)
    current = ItemIdentity.objects.filter(project=project, item_id__in=item_ids, rule=rule_of(config)).count()
    if current < len(set(item_ids)):
        identity_assign(project=project)
