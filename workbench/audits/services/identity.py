"""Identity groups per item, and the project settings that say where they come from."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from django.db import connection, models, transaction

import audits
from workbench.audits import selectors
from workbench.audits.models import AuditSettings, ImportIdentityCounts, ItemIdentity
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
    try:
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
    finally:  # also after a failed chunk: the chunks before it are stored
        for record in (
            [item_import] if item_import is not None else ItemImport.objects.filter(project=project)
        ):
            identity_counts_refresh(item_import=record)
    return selectors.most_mentioned_first(counts)


def identity_ensure(*, project: Project, item_ids: list[int]) -> None:
    """Assign groups to the project's items if some of ``item_ids`` have none or an outdated rule."""
    config = selectors.audit_settings_get(project=project)
    current = ItemIdentity.objects.filter(project=project, item_id__in=item_ids, rule=rule_of(config)).count()
    if current < len(set(item_ids)):
        identity_assign(project=project)


def identity_counts_refresh(*, item_import: ItemImport) -> ImportIdentityCounts | None:
    """Recount the import's stored identity groups into its ``ImportIdentityCounts`` row (what
    the summary and the import report read). Every writer of ``ItemIdentity`` rows calls this
    after writing them; it costs one pass over the import's rows, in SQL (a worker's job)."""
    row: ImportIdentityCounts | None = recount(
        ItemIdentity, ImportIdentityCounts, import_id=item_import.id, project_id=item_import.project_id
    )
    return row


_ELEMENTS = {  # the text elements of a JSON list column, per database vendor
    "postgresql": "CROSS JOIN LATERAL jsonb_array_elements_text(ii.groups) AS g(value)",
    "sqlite": "CROSS JOIN json_each(ii.groups) AS g",
}
_LENGTH = {"postgresql": "jsonb_array_length", "sqlite": "json_array_length"}


def recount(
    identity_model: type[models.Model], counts_model: type[models.Model], *, import_id: int, project_id: int
) -> Any:
    """:func:`identity_counts_refresh` on the given models (the migration that adds the counts
    passes its historical ones). No stored records: the row is deleted (None)."""
    if connection.vendor not in _ELEMENTS:
        raise NotImplementedError(f"identity counts need PostgreSQL or SQLite, not {connection.vendor}.")
    identities = identity_model._meta.db_table
    items = identity_model._meta.get_field("item").related_model._meta.db_table  # type: ignore[union-attr]
    rows = f"FROM {identities} ii JOIN {items} i ON i.id = ii.item_id"
    where = "WHERE i.source_id = %s AND ii.project_id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ii.rule, COUNT(*), "
            f"SUM(CASE WHEN {_LENGTH[connection.vendor]}(ii.groups) > 0 THEN 1 ELSE 0 END) "
            f"{rows} {where} GROUP BY ii.rule",
            [import_id, project_id],
        )
        by_rule = cursor.fetchall()
        if not by_rule:
            counts_model._default_manager.filter(item_import_id=import_id).delete()
            return None
        cursor.execute(
            f"SELECT g.value, COUNT(*) {rows} {_ELEMENTS[connection.vendor]} {where} GROUP BY g.value",
            [import_id, project_id],
        )
        counts = selectors.most_mentioned_first(dict(cursor.fetchall()))
        row, _ = counts_model._default_manager.update_or_create(
            item_import_id=import_id,
            defaults={
                "project_id": project_id,
                "assigned": sum(n for _, n, _ in by_rule),
                "with_any_group": sum(int(k) for _, _, k in by_rule),
                "rules": sorted(rule for rule, _, _ in by_rule),
                "counts": counts,
            },
        )
    return row
