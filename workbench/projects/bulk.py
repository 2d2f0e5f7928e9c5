"""The import's staging table: parsed rows go to the database in batches, and the duplicate and
conflict rules run there as set operations, so an import holds one batch in memory whatever the
file's size.

Inside the import's transaction: ``stage_create``, then the rows batch by batch through
``Stage.writing`` (``COPY`` with psycopg 3 on PostgreSQL, ``executemany`` elsewhere, e.g.
SQLite), then the checks, then one ``INSERT ... SELECT`` of the kept rows into the pool. The
stage is a temporary table dropped at the end (and with the transaction when it rolls back), so
a failed import leaves nothing.

The rules, in one place:
- a row is *kept* when its content is not in the pool and no earlier row of the file has it
  (the first occurrence wins); the other rows are duplicates, skipped and reported;
- an external id may appear once per file (``repeated_ids``) and a kept row's external id must
  not already be used in the pool (``conflicts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from workbench.projects.models import Item

STAGE = "workbench_import_stage"
KEPT = "workbench_import_kept"
# Rows per write to the stage: the only rows the import holds in memory at a time.
BATCH_ROWS = 5000
JSON_COLUMNS = ("data", "metadata", "gold")

StagedRow = tuple[int, str, str, str, str, str | None, str | None]
"""(file row, content hash, external id, data, metadata, gold as JSON text or None, the
near-identical reason of a preference pair or None)."""


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


class Stage:
    """The staged rows of one import (create it with :func:`stage_create` inside a transaction)."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        self.rows = 0

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[StagedRow]], None]]:
        """``add(batch)`` for each batch of rows. On PostgreSQL one ``COPY`` stays open for the
        whole file, so the server stores rows while the next batch is parsed."""
        if self.postgres:
            columns = "file_row, content_hash, external_id, data, metadata, gold, near"
            with self.cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:

                def copy_rows(rows: Sequence[StagedRow]) -> None:
                    for row in rows:
                        copy.write_row(row)
                    self.rows += len(rows)

                yield copy_rows
            return

        def insert_rows(rows: Sequence[StagedRow]) -> None:
            if rows:
                self.cursor.executemany(f"INSERT INTO {STAGE} VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
            self.rows += len(rows)

        yield insert_rows

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall())

    def loaded(self) -> None:
        """All rows are in: index what the checks look up and give the planner statistics."""
        self.cursor.execute(f"CREATE INDEX {STAGE}_external_id ON {STAGE} (external_id)")
        if self.postgres:
            self.cursor.execute(f"ANALYZE {STAGE}")

    def repeated_ids(self, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """Rows whose external id an earlier row of the file has: (row, external id, first row)
        for the first ``limit`` of them, and how many there are."""
        found = self._fetch(
            f"SELECT s.file_row, s.external_id, f.first_row, COUNT(*) OVER () FROM {STAGE} s "
            f"JOIN (SELECT external_id, MIN(file_row) AS first_row FROM {STAGE} WHERE external_id <> '' "
            "GROUP BY external_id HAVING COUNT(*) > 1) f ON f.external_id = s.external_id "
            "WHERE s.file_row > f.first_row ORDER BY s.file_row LIMIT %s",
            [limit],
        )
        return [(r[0], r[1], r[2]) for r in found], (found[0][3] if found else 0)

    def keep(self, *, project_id: int) -> int:
        """Decide the kept rows (first occurrence of content not in the pool); returns how many."""
        items = _q(Item._meta.db_table)
        self.cursor.execute(f"CREATE TEMPORARY TABLE {KEPT} (file_row integer PRIMARY KEY)")
        self.cursor.execute(
            f"INSERT INTO {KEPT} (file_row) SELECT MIN(s.file_row) FROM {STAGE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {items} i WHERE i.project_id = %s "
            "AND i.content_hash = s.content_hash) GROUP BY s.content_hash",
            [project_id],
        )
        self.cursor.execute(f"SELECT COUNT(*) FROM {KEPT}")
        (kept,) = self.cursor.fetchone()
        if self.postgres:
            self.cursor.execute(f"ANALYZE {KEPT}")
        return int(kept)

    def conflicts(self, *, project_id: int, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Kept rows whose external id the pool already uses (for other content)."""
        items = _q(Item._meta.db_table)
        found = self._fetch(
            f"SELECT s.file_row, s.external_id, COUNT(*) OVER () FROM {STAGE} s "
            f"JOIN {KEPT} k ON k.file_row = s.file_row WHERE s.external_id <> '' AND EXISTS "
            f"(SELECT 1 FROM {items} i WHERE i.project_id = %s AND i.external_id = s.external_id) "
            "ORDER BY s.file_row LIMIT %s",
            [project_id, limit],
        )
        return [(r[0], r[1]) for r in found], (found[0][2] if found else 0)

    def insert_items(self, *, project_id: int, source_id: int) -> int:
        """Write the kept rows to the pool in file order; returns how many were written."""
        staged = {"external_id", "content_hash", *JSON_COLUMNS}
        given = {"project": project_id, "source": source_id}
        columns: list[str] = []
        values: list[str] = []
        params: list[Any] = []
        for f in Item._meta.concrete_fields:
            if f.primary_key:
                continue
            columns.append(_q(str(f.column)))
            if f.name in staged:
                values.append(f"s.{f.name}")
                continue
            # Every other column gets what Django would write for a new item (its default, the
            # time for auto_now_add), so a field added to Item later needs no change here.
            if f.name in given:
                value = given[f.name]
            elif getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                value = f.get_db_prep_save(timezone.now(), connection)
            else:
                value = f.get_db_prep_save(f.get_default(), connection)
            values.append("%s")
            params.append(value)
        self.cursor.execute(
            f"INSERT INTO {_q(Item._meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {STAGE} s JOIN {KEPT} k ON k.file_row = s.file_row ORDER BY s.file_row",
            params,
        )
        return int(self.cursor.rowcount)

    def duplicate_rows(self, limit: int) -> list[int]:
        return [
            r[0]
            for r in self._fetch(
                f"SELECT s.file_row FROM {STAGE} s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {KEPT} k WHERE k.file_row = s.file_row) ORDER BY s.file_row LIMIT %s",
                [limit],
            )
        ]

    def near_identical(self, limit: int) -> tuple[list[tuple[int, str, str]], int]:
        """Kept preference pairs flagged as (nearly) identical while parsing: (row, id, reason)."""
        found = self._fetch(
            f"SELECT s.file_row, s.external_id, s.near, COUNT(*) OVER () FROM {STAGE} s "
            f"JOIN {KEPT} k ON k.file_row = s.file_row WHERE s.near IS NOT NULL "
            "ORDER BY s.file_row LIMIT %s",
            [limit],
        )
        return [(r[0], r[1], r[2]) for r in found], (found[0][3] if found else 0)

    def drop(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {KEPT}")
        self.cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


def stage_create(cursor: CursorWrapper) -> Stage:
    """A fresh, empty stage (call inside the import's transaction)."""
    stage = Stage(cursor)
    stage.drop()  # a stage left by an earlier import on this connection that was not dropped
    # jsonb on PostgreSQL: the server parses the JSON while the COPY runs, beside the parsing of
    # the next batch, instead of in the final INSERT that nothing overlaps.
    json = "jsonb" if stage.postgres else "text"
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (file_row integer PRIMARY KEY, content_hash text NOT NULL, "
        f"external_id text NOT NULL, data {json} NOT NULL, metadata {json} NOT NULL, gold {json}, near text)"
    )
    return stage
