"""Reading a feedback file: the import parser's contract for the item's own fields (CSV or JSONL,
optionally gzipped, read as a stream under the size limits, every problem named by file, row and
field, all rows or none), plus the feedback columns checked here.

Feedback columns (besides the kind's data fields, e.g. ``text``, and an optional ``external_id``):
- ``score`` (required): the deployed model's P(toxic), a number in [0, 1];
- ``report`` (required): one of :class:`~workbench.incidents.models.Report`;
- ``note`` (optional): the user's own words;
- ``model_version`` (optional): which model scored the row; every row must name the same one
  (a batch is one deployed model), and the batch's ``model_version`` when that is given too.
A feedback row carries no gold label (``label`` / ``toxic`` columns are refused): the batch is
labeled by relabeling it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from workbench.incidents.models import Report
from workbench.projects.importing import ImportRejected, ParsedRow, RowError, parse_file

FEEDBACK_COLUMNS = ("score", "report", "note", "model_version")
MAX_ERRORS = 50


@dataclass(frozen=True)
class FeedbackRow:
    item: ParsedRow  # the item's fields; its metadata holds the file's other columns
    score: float
    report: str
    note: str


@dataclass(frozen=True)
class FeedbackFile:
    rows: list[FeedbackRow]
    sha256: str
    model_version: str  # the rows' (or the given) model version, "" when none is named


def parse_feedback(
    *,
    kind: str,
    source: str,
    content: bytes | BinaryIO,
    model_version: str = "",
    columns: Mapping[str, str] | None = None,
    max_field_chars: int,
    max_file_bytes: int | None = None,
    max_decompressed_bytes: int | None = None,
) -> FeedbackFile:
    """Every row of the file, or ``ImportRejected`` naming each problem's row and field."""
    parsed = parse_file(
        kind=kind,
        source=source,
        content=content,
        columns=columns,
        max_field_chars=max_field_chars,
        max_file_bytes=max_file_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
    )
    errors: list[RowError] = []
    rows: list[FeedbackRow] = []
    version = model_version.strip()
    version_row = 0  # the row that named the version first (0: the batch's argument)
    for parsed_row in parsed.rows:
        meta = parsed_row.metadata
        row_errors: list[RowError] = []
        if parsed_row.gold is not None:
            row_errors.append(
                RowError(parsed_row.row, "label", "feedback carries no gold label; the batch is relabeled")
            )
        score, problem = _score(meta.get("score"))
        if problem:
            row_errors.append(RowError(parsed_row.row, "score", problem))
        report = meta.get("report")
        if report not in Report.values:
            got = "missing" if report is None else f"got {report!r}"
            row_errors.append(RowError(parsed_row.row, "report", f"{got}; valid: {', '.join(Report.values)}"))
        note = meta.get("note")
        if note is not None and not isinstance(note, str):
            row_errors.append(RowError(parsed_row.row, "note", f"must be text, got {type(note).__name__}"))
        named = meta.get("model_version")
        if named not in (None, ""):
            named = str(named).strip()
            if not version:
                version, version_row = named, parsed_row.row
            elif named != version:
                first = f"row {version_row}" if version_row else "the batch's model_version"
                row_errors.append(
                    RowError(parsed_row.row, "model_version", f"{named!r} differs from {version!r} ({first})")
                )
        errors.extend(row_errors)
        if not row_errors:
            kept = {k: v for k, v in meta.items() if k not in FEEDBACK_COLUMNS}
            item = ParsedRow(parsed_row.row, parsed_row.data, parsed_row.external_id, None, kept)
            rows.append(FeedbackRow(item, score, str(report), str(note or "").strip()))
    if errors:
        raise ImportRejected(source, errors[:MAX_ERRORS], more=max(0, len(errors) - MAX_ERRORS))
    if len(version) > 128:
        raise ImportRejected(source, [RowError(version_row, "model_version", "longer than 128 characters")])
    return FeedbackFile(rows, parsed.sha256, version)


def _score(value: Any) -> tuple[float, str | None]:
    if value is None or value == "":
        return 0.0, "missing; the deployed model's P(toxic), a number in [0, 1]"
    if isinstance(value, bool):
        return 0.0, "must be a number in [0, 1], got a boolean"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0, f"must be a number in [0, 1], got {value!r}"
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        return 0.0, f"must be a number in [0, 1], got {value!r}"
    return number, None
