"""Reading item files (CSV or JSONL, optionally gzipped) against each kind's data contract.

A file is read as a stream under size limits (``workbench.projects.streams``): an over-limit
file or gzip bomb stops at the limit. :class:`RowStream` yields the valid rows one at a time and
collects the row-level problems by file, row and field; the import service writes the rows to a
staging table as they come and commits nothing unless the whole file passed
(``workbench.projects.bulk``). ``parse_items`` is the in-memory form for small files: every row
or ``ImportRejected``.

Data contract (after the optional column mapping):
- toxicity kinds: ``text`` (required, non-empty), ``external_id`` (optional, unique);
  gold for binary: ``label`` (toxic / non-toxic) or ``toxic`` (0 / 1);
  gold for multi-label: all six Jigsaw columns (0 / 1), or none of them;
- preference: ``prompt``, ``response_a``, ``response_b`` (required), gold ``label`` (A / B / tie).
Any other column is kept as item metadata.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from workbench.projects.kinds import JIGSAW_LABELS, SPECS, Kind, Label
from workbench.projects.streams import BoundedText, StreamBroken, StreamTooLarge

MAX_REPORTED_ERRORS = 50
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self, source: str) -> dict[str, Any]:
        return {"file": source, "row": self.row, "field": self.field, "message": self.message}


class ImportRejected(Exception):
    """The file is not imported; ``errors`` says where and why (row 0 is the file itself)."""

    def __init__(self, source: str, errors: list[RowError], *, more: int = 0) -> None:
        self.source = source
        self.errors = errors
        self.more = more
        first = errors[0]
        where = f"row {first.row}, field '{first.field}'" if first.row else f"field '{first.field}'"
        extra = f" (and {len(errors) - 1 + more} more problems)" if len(errors) + more > 1 else ""
        super().__init__(f"{source}: {where}: {first.message}{extra}; nothing was imported.")


@dataclass(frozen=True)
class ParsedRow:
    row: int
    data: dict[str, str]
    external_id: str
    gold: Label | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.data)


def content_hash(data: Mapping[str, str]) -> str:
    """Items with the same content fields (whitespace at the ends ignored) are duplicates.

    The hashed text is ``json.dumps(sorted stripped fields, ensure_ascii=False)``, built here from
    json's own string encoder (the same bytes, without the encoder's per-call set-up: it runs
    once per imported row)."""
    canonical = "{" + ", ".join(f"{_quoted(k)}: {_quoted(v.strip())}" for k, v in sorted(data.items())) + "}"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_quoted: Callable[[str], str] = json.encoder.encode_basestring


class ImportTooLarge(ImportRejected):
    """The file (or what it decompresses to) is over a size limit; nothing was imported."""

    def __init__(self, source: str, *, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        setting = "IMPORT_MAX_DECOMPRESSED_BYTES" if what == "decompressed" else "IMPORT_MAX_FILE_BYTES"
        size = "decompresses to more than" if what == "decompressed" else "is larger than"
        message = f"the file {size} {limit} bytes (the {setting} limit)"
        super().__init__(source, [RowError(0, "(file)", message)])


@dataclass
class ParsedFile:
    """Every row of a file that passed, with the raw file's size and sha256."""

    rows: list[ParsedRow]
    size: int
    sha256: str


def repeat_error(number: int, external_id: str, first: int) -> RowError:
    """An external id used by two rows of one file (the rule: one item per external id)."""
    return RowError(number, "external_id", f"'{external_id}' repeats row {first}")


class RowStream:
    """The valid rows of a file, parsed one at a time as the file is read (never held whole).

    Iterate it once. Row-level problems do not stop the iteration: they collect in ``errors``
    (the first ``MAX_REPORTED_ERRORS``; ``error_count`` counts them all) so one pass reports
    every bad row; a broken file (bad JSON line, broken CSV, over a size limit) raises
    ``ImportRejected`` / ``ImportTooLarge`` from the iteration. ``bytes_read`` grows as the raw
    file is read (for progress); ``size`` and ``sha256`` are final once the iteration ends.
    """

    def __init__(
        self,
        *,
        kind: Kind | str,
        source: str,
        content: bytes | BinaryIO,
        columns: Mapping[str, str] | None = None,
        max_field_chars: int,
        max_file_bytes: int | None = None,
        max_decompressed_bytes: int | None = None,
    ) -> None:
        self.source = source
        self.kind = Kind(kind)
        raw = io.BytesIO(content) if isinstance(content, bytes) else content
        self._text = BoundedText(
            raw, max_file_bytes=max_file_bytes, max_decompressed_bytes=max_decompressed_bytes
        )
        self._checker = _RowChecker(self.kind, dict(columns or {}), max_field_chars)
        self.errors: list[RowError] = []
        self.error_count = 0
        self.rows = 0  # valid rows so far

    @property
    def bytes_read(self) -> int:
        return self._text.size

    @property
    def size(self) -> int:
        return self._text.size

    @property
    def sha256(self) -> str:
        return self._text.sha256

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def __iter__(self) -> Iterator[ParsedRow]:
        try:
            for number, raw in _rows(self.source, self._text.lines()):
                row, row_errors = self._checker.check(number, raw)
                for error in row_errors:
                    self.add_error(error)
                if row is not None:
                    self.rows += 1
                    yield row
        except StreamTooLarge as exc:
            raise ImportTooLarge(self.source, what=exc.what, limit=exc.limit) from exc
        except StreamBroken as exc:
            raise ImportRejected(self.source, [RowError(0, "(file)", str(exc))]) from exc
        if not self.rows and not self.error_count:
            self.add_error(RowError(0, "(file)", "the file holds no rows"))

    def rejection(self, more_errors: Sequence[RowError] = (), more_count: int = 0) -> ImportRejected | None:
        """The file's problems (with ``more_errors`` found elsewhere, ``more_count`` of them in
        all) in row order, or None when there are none."""
        total = self.error_count + more_count
        if not total:
            return None
        shown = sorted([*self.errors, *more_errors], key=lambda e: e.row)[:MAX_REPORTED_ERRORS]
        return ImportRejected(self.source, shown, more=total - len(shown))


def parse_items(
    *,
    kind: Kind | str,
    source: str,
    content: bytes | BinaryIO,
    columns: Mapping[str, str] | None = None,
    max_field_chars: int,
    max_file_bytes: int | None = None,
    max_decompressed_bytes: int | None = None,
) -> list[ParsedRow]:
    """Parse and validate a whole file. ``columns`` maps contract fields to the file's own
    column names, e.g. ``{"text": "comment_text", "external_id": "id"}``."""
    return parse_file(
        kind=kind,
        source=source,
        content=content,
        columns=columns,
        max_field_chars=max_field_chars,
        max_file_bytes=max_file_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
    ).rows


def parse_file(
    *,
    kind: Kind | str,
    source: str,
    content: bytes | BinaryIO,
    columns: Mapping[str, str] | None = None,
    max_field_chars: int,
    max_file_bytes: int | None = None,
    max_decompressed_bytes: int | None = None,
) -> ParsedFile:
    """``parse_items`` with the file's size and sha256, every row in memory (small files and
    tests; the import service streams :class:`RowStream` into the database instead). Sizes are
    checked while reading, so an over-limit file or gzip bomb stops at the limit
    (``ImportTooLarge``) without being held in memory."""
    stream = RowStream(
        kind=kind,
        source=source,
        content=content,
        columns=columns,
        max_field_chars=max_field_chars,
        max_file_bytes=max_file_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
    )
    parsed: list[ParsedRow] = []
    seen_ids: dict[str, int] = {}
    for row in stream:
        if row.external_id:
            if row.external_id in seen_ids:
                stream.add_error(repeat_error(row.row, row.external_id, seen_ids[row.external_id]))
                continue
            seen_ids[row.external_id] = row.row
        parsed.append(row)
    rejection = stream.rejection()
    if rejection is not None:
        raise rejection
    return ParsedFile(parsed, stream.size, stream.sha256)


def _rows(source: str, lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """CSV or JSON Lines, by the file name or else by the first non-blank character."""
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    everything = itertools.chain(head, lines)
    first = head[-1] if head else ""
    if _is_jsonl(source, first):
        return _jsonl_rows(source, everything)
    return _csv_rows(source, everything)


def _is_jsonl(source: str, first_line: str) -> bool:
    name = source.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return True
    if name.endswith((".csv", ".tsv")):
        return False
    return first_line.lstrip().startswith("{")


def _jsonl_rows(source: str, lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportRejected(source, [RowError(number, "(line)", f"not valid JSON: {exc.msg}")]) from exc
        if not isinstance(value, dict):
            raise ImportRejected(
                source, [RowError(number, "(line)", f"expected a JSON object, got {type(value).__name__}")]
            )
        yield number, value


def _csv_rows(source: str, lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    # Our own field-size check gives a better message than csv's "field larger than field limit".
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(lines, strict=True)
    number = 0
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [h.strip() for h in header]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ImportRejected(source, [RowError(0, duplicated[0], "column name appears more than once")])
        for number, values in enumerate(reader, start=1):
            if not values:
                continue
            if len(values) != len(names):
                raise ImportRejected(
                    source,
                    [RowError(number, "(row)", f"has {len(values)} fields, the header has {len(names)}")],
                )
            yield number, dict(zip(names, values, strict=True))
    except csv.Error as exc:
        raise ImportRejected(source, [RowError(number + 1, "(row)", f"broken CSV: {exc}")]) from exc


class _RowChecker:
    def __init__(self, kind: Kind, columns: dict[str, str], max_field_chars: int) -> None:
        self.spec = SPECS[kind]
        self.columns = columns
        self.max_field_chars = max_field_chars
        self.data_columns = [(name, columns.get(name, name)) for name in self.spec.data_fields]
        self.id_column = columns.get("external_id", "external_id")

    def _column(self, name: str) -> str:
        return self.columns.get(name, name)

    def check(self, number: int, raw: dict[str, Any]) -> tuple[ParsedRow | None, list[RowError]]:
        errors: list[RowError] = []
        used: set[str] = set()
        data: dict[str, str] = {}
        for name, column in self.data_columns:
            used.add(column)
            value = raw.get(column)
            problem = self._text_problem(column, value, required=True)
            if problem:
                errors.append(RowError(number, column, problem))
            else:
                data[name] = str(value)
        external_id = ""
        id_column = self.id_column
        if id_column in raw:
            used.add(id_column)
            value = raw[id_column]
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                errors.append(RowError(number, id_column, "must be a string or an integer"))
            else:
                external_id = str(value).strip()
                if len(external_id) > 255:
                    errors.append(RowError(number, id_column, "longer than 255 characters"))
        gold, gold_errors = self._gold(number, raw, used)
        errors.extend(gold_errors)
        for column, value in raw.items():
            if column not in used and isinstance(value, str) and len(value) > self.max_field_chars:
                errors.append(RowError(number, column, f"longer than {self.max_field_chars} characters"))
        if errors:
            return None, errors
        metadata = {k: v for k, v in raw.items() if k not in used}
        return ParsedRow(number, data, external_id, gold, metadata), []

    def _text_problem(self, column: str, value: Any, *, required: bool) -> str | None:
        if value is None:
            return "missing column" if required else None
        if not isinstance(value, str):
            return f"must be text, got {type(value).__name__}"
        if not value.strip():
            return "empty text"
        if len(value) > self.max_field_chars:
            return f"longer than {self.max_field_chars} characters ({len(value)})"
        return None

    def _gold(self, number: int, raw: dict[str, Any], used: set[str]) -> tuple[Label | None, list[RowError]]:
        kind = self.spec.kind
        if kind is Kind.TOXICITY_MULTILABEL:
            return self._multilabel_gold(number, raw, used)
        label_column = self._column("label")
        if label_column in raw and raw[label_column] not in (None, ""):
            used.add(label_column)
            value = str(raw[label_column]).strip()
            if value not in self.spec.labels:
                return None, [
                    RowError(
                        number, label_column, f"unknown label '{value}'; valid: {', '.join(self.spec.labels)}"
                    )
                ]
            return value, []
        toxic_column = self._column("toxic")
        if kind is Kind.TOXICITY_BINARY and toxic_column in raw:
            used.add(toxic_column)
            flag = _flag(raw[toxic_column])
            if flag is None:
                return None, [RowError(number, toxic_column, f"expected 0 or 1, got {raw[toxic_column]!r}")]
            return ("toxic" if flag else "non-toxic"), []
        return None, []

    def _multilabel_gold(
        self, number: int, raw: dict[str, Any], used: set[str]
    ) -> tuple[Label | None, list[RowError]]:
        present = [self._column(name) for name in JIGSAW_LABELS if self._column(name) in raw]
        if not present:
            return None, []
        used.update(present)
        if len(present) != len(JIGSAW_LABELS):
            missing = [n for n in JIGSAW_LABELS if self._column(n) not in raw]
            return None, [RowError(number, missing[0], "gold columns must be all six Jigsaw labels or none")]
        ticked: list[str] = []
        errors: list[RowError] = []
        for name in JIGSAW_LABELS:
            column = self._column(name)
            flag = _flag(raw[column])
            if flag is None:
                errors.append(RowError(number, column, f"expected 0 or 1, got {raw[column]!r}"))
            elif flag:
                ticked.append(name)
        return (None, errors) if errors else (tuple(ticked), [])


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None
