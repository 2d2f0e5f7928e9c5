"""The import's staging table: parsed rows go to the database in batches, and the duplicate and
conflict rules run there as set operations, so an import holds one batch in memory whatever the
file's size.

Inside the import's transaction: ``stage_create`` (after the import's ``ItemImport`` row, which
the items point at), then the rows batch by batch through ``Stage.writing``: each batch is
staged (``COPY`` with psycopg 3 on PostgreSQL, ``executemany`` elsewhere, e.g. SQLite) and its
kept rows are written to the pool at once, so the pool's indexes and foreign key checks are
maintained while the file is still being read. On PostgreSQL a batch's pool writes are sent in
pipeline mode and run on the server while the next batch is parsed. Then the checks over the
whole file. The stage is a temporary table dropped at the end (and with the transaction when it
rolls back), so a failed import leaves nothing: a file with errors may have written some rows to
the pool before the checks reject it, and they roll back with the rest.

The rules, in one place:
- a row is *kept* when its content is not in the pool and no earlier row of the file has it
  (the first occurrence wins); the other rows are duplicates, skipped and reported;
- an external id may appear once per file (``repeated_ids``) and a kept row's external id must
  not already be used in the pool (``conflicts``).
A kept row is written to the pool with its batch unless its external id breaks one of those two
rules (then the import is rejected anyway, and writing it would break the pool's unique index).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from workbench.projects.models import Item

if TYPE_CHECKING:
    import psycopg

STAGE = "workbench_import_stage"
KEPT = "workbench_import_kept"
HELD = "workbench_import_held"  # kept rows not written to the pool, for an external id's error
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

    def __init__(self, cursor: CursorWrapper, *, project_id: int, source_id: int) -> None:
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        self.project_id = project_id
        self.source_id = source_id
        self.rows = 0
        self.written = 0  # rows written to the pool so far (known once ``writing`` has ended)
        self._insert_items = _insert_items_sql(project_id=project_id, source_id=source_id)

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[StagedRow]], None]]:
        """``add(batch)`` for each batch of rows (in file order): stage the batch and write its
        kept rows to the pool. On PostgreSQL ``add`` returns once the batch is staged, with its
        pool writes still running on the server (pipeline mode), so the caller parses the next
        batch meanwhile; the next ``add`` (or the end of ``writing``) waits for them."""
        if not self.postgres:

            def insert_rows(rows: Sequence[StagedRow]) -> None:
                if rows:
                    self.cursor.executemany(f"INSERT INTO {STAGE} VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
                    self._write_pool(self.cursor, rows)
                self.rows += len(rows)

            yield insert_rows
            self.written = self._count_written()
            return

        raw = self.cursor.cursor
        running: list[psycopg.Pipeline] = []  # the open pipeline of the last batch's pool writes

        def wait() -> None:
            while running:
                running.pop().__exit__(None, None, None)

        def copy_rows(rows: Sequence[StagedRow]) -> None:
            wait()
            if not rows:
                return
            columns = "file_row, content_hash, external_id, data, metadata, gold, near"
            with raw.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.rows += len(rows)
            pipeline = raw.connection.pipeline()
            pipeline.__enter__()
            running.append(pipeline)
            self._write_pool(raw, rows)

        with _batch_statements(self.cursor):
            try:
                yield copy_rows
            finally:
                wait()
        self.written = self._count_written()

    def _write_pool(self, cursor: Any, rows: Sequence[StagedRow]) -> None:
        """Decide the batch's kept rows (against the pool and the earlier batches) and write the
        ones with a usable external id to the pool, in file order.

        Each lookup in the pool or the kept rows is a subquery behind an optimisation fence
        (``OFFSET 0`` on PostgreSQL), so it runs per batch row as one probe of the unique index:
        the planner's statistics of the growing pool and of the temporary tables lag behind
        them, and a join it picked on those statistics could read every row of the project's
        pool once per batch. The batch itself is a ``BETWEEN`` range of the stage's key."""
        first, last = rows[0][0], rows[-1][0]
        items = _q(Item._meta.db_table)
        fence = " OFFSET 0" if self.postgres else ""
        batch = "s.file_row BETWEEN %s AND %s"
        kept = f"EXISTS (SELECT 1 FROM {KEPT} k WHERE k.file_row = s.file_row{fence})"
        usable_id = (
            f"(s.external_id = '' OR (NOT EXISTS (SELECT 1 FROM {items} i WHERE i.project_id = %s "
            f"AND i.external_id <> '' AND i.external_id = s.external_id{fence}) "
            f"AND s.external_id NOT IN (SELECT external_id FROM {STAGE} WHERE file_row BETWEEN %s AND %s "
            "GROUP BY external_id HAVING COUNT(*) > 1)))"
        )
        usable_params = [self.project_id, first, last]
        # Content kept by an earlier batch is in the pool, or held back.
        cursor.execute(
            f"INSERT INTO {KEPT} (file_row) SELECT MIN(s.file_row) FROM {STAGE} s WHERE {batch} "
            f"AND NOT EXISTS (SELECT 1 FROM {items} i WHERE i.project_id = %s "
            f"AND i.content_hash = s.content_hash{fence}) "
            f"AND NOT EXISTS (SELECT 1 FROM {HELD} h WHERE h.content_hash = s.content_hash{fence}) "
            "GROUP BY s.content_hash",
            [first, last, self.project_id],
        )
        sql, params = self._insert_items
        cursor.execute(
            f"{sql} FROM {STAGE} s WHERE {batch} AND {kept} AND {usable_id} ORDER BY s.file_row",
            [*params, first, last, *usable_params],
        )
        cursor.execute(
            f"INSERT INTO {HELD} (content_hash) SELECT s.content_hash FROM {STAGE} s "
            f"WHERE {batch} AND {kept} AND NOT {usable_id}",
            [first, last, *usable_params],
        )

    def _count_written(self) -> int:
        (written,) = self._fetch(
            f"SELECT COUNT(*) FROM {_q(Item._meta.db_table)} WHERE source_id = %s", [self.source_id]
        )[0]
        return int(written)

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall())

    def loaded(self) -> None:
        """All rows are in: index what the checks look up and give the planner statistics."""
        self.cursor.execute(f"CREATE INDEX {STAGE}_external_id ON {STAGE} (external_id)")
        if self.postgres:
            # Not the JSON columns: no check reads them, and they are most of ANALYZE's time.
            self.cursor.execute(f"ANALYZE {STAGE} (file_row, external_id, near)")
            self.cursor.execute(f"ANALYZE {KEPT}")

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

    def kept(self) -> int:
        """How many rows are kept (first occurrences of content that was not in the pool)."""
        (kept,) = self._fetch(f"SELECT COUNT(*) FROM {KEPT}")[0]
        return int(kept)

    def conflicts(self, *, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Kept rows whose external id the pool already used (for other content) before this
        import."""
        items = _q(Item._meta.db_table)
        found = self._fetch(
            f"SELECT s.file_row, s.external_id, COUNT(*) OVER () FROM {STAGE} s "
            f"JOIN {KEPT} k ON k.file_row = s.file_row WHERE s.external_id <> '' AND EXISTS "
            f"(SELECT 1 FROM {items} i WHERE i.project_id = %s AND i.external_id = s.external_id "
            "AND i.source_id <> %s) ORDER BY s.file_row LIMIT %s",
            [self.project_id, self.source_id, limit],
        )
        return [(r[0], r[1]) for r in found], (found[0][2] if found else 0)

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
        self.cursor.execute(f"DROP TABLE IF EXISTS {HELD}")
        self.cursor.execute(f"DROP TABLE IF EXISTS {KEPT}")
        self.cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


def stage_create(cursor: CursorWrapper, *, project_id: int, source_id: int) -> Stage:
    """A fresh, empty stage for an import into ``project_id`` whose items point at the
    ``ItemImport`` ``source_id`` (call inside the import's transaction)."""
    stage = Stage(cursor, project_id=project_id, source_id=source_id)
    stage.drop()  # a stage left by an earlier import on this connection that was not dropped
    # jsonb on PostgreSQL: the server parses the JSON while the COPY runs, not in the pool writes.
    json = "jsonb" if stage.postgres else "text"
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (file_row integer PRIMARY KEY, content_hash text NOT NULL, "
        f"external_id text NOT NULL, data {json} NOT NULL, metadata {json} NOT NULL, gold {json}, near text)"
    )
    # No index on the kept rows' content: one would take a random page per row from the few
    # megabytes of buffers a session has for temporary tables (temp_buffers).
    cursor.execute(f"CREATE TEMPORARY TABLE {KEPT} (file_row integer PRIMARY KEY)")
    cursor.execute(f"CREATE TEMPORARY TABLE {HELD} (content_hash text PRIMARY KEY)")
    return stage


@contextmanager
def _batch_statements(cursor: CursorWrapper) -> Iterator[None]:
    """The pool's foreign keys are checked at the end of each batch's statement (``IMMEDIATE``)
    while the batches are written, instead of all at commit, so the checks run while the next
    batch is parsed (PostgreSQL; Django makes every foreign key ``DEFERRABLE INITIALLY
    DEFERRED``, which is restored after)."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND condeferrable",
        [Item._meta.db_table],
    )
    keys = ", ".join(_q(name) for (name,) in cursor.fetchall())
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
    yield
    # Not on an error: the transaction (or savepoint) rolls back, and with it this setting.
    if keys:
        cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")


def _insert_items_sql(*, project_id: int, source_id: int) -> tuple[str, list[Any]]:
    """``INSERT INTO <pool> (...) SELECT ...`` of stage rows ``s`` (the caller adds ``FROM``) and
    its parameters."""
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
    return f"INSERT INTO {_q(Item._meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(values)}", params
