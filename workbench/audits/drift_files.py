"""Drift check between two item files (CSV or JSONL, optionally gzipped), no database.

Reads the text column (and an optional label column) of each file, builds hashed TF-IDF
features (``audits.hashed_tfidf_pair``), matches the default identity lexicon and runs
``audits.drift_report``. Bad input raises :class:`~workbench.errors.ValidationFailed` naming the
file, the column and the row.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audits import DriftReport, default_lexicon, drift_report, groups_from_text, hashed_tfidf_pair
from workbench.errors import ValidationFailed


@dataclass(frozen=True)
class ItemFile:
    path: str
    texts: list[str]
    labels: list[str] | None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValidationFailed(f"{path}: broken gzip data ({exc})") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"{path}: line {line} is not UTF-8") from exc


def _rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")) or (not name.endswith(".csv") and text.lstrip().startswith("{")):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationFailed(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(value, dict):
                raise ValidationFailed(
                    f"{path}, line {number}: expected a JSON object, got {type(value).__name__}"
                )
            rows.append((number, value))
        return rows
    import csv
    import io

    csv.field_size_limit(2**31 - 1)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        return [(number, dict(row)) for number, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ValidationFailed(f"{path}: broken CSV ({exc})") from exc


def read_item_file(path: str | Path, *, text_column: str, label_column: str | None) -> ItemFile:
    """Texts (and labels) of one file; every row must have a non-empty text (and a label)."""
    where = Path(path)
    rows = _rows(where, _read_text(where))
    if not rows:
        raise ValidationFailed(f"{where}: the file holds no rows")
    texts: list[str] = []
    labels: list[str] | None = [] if label_column else None
    for number, row in rows:
        for column in (text_column, label_column):
            if column and column not in row:
                known = ", ".join(sorted(map(str, row))) or "none"
                raise ValidationFailed(f"{where}, row {number}: no column '{column}' (columns: {known})")
        value = row[text_column]
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(
                f"{where}, row {number}, column '{text_column}': the text is empty or not text"
            )
        texts.append(value)
        if labels is not None and label_column:
            label = row[label_column]
            if label is None or str(label).strip() == "":
                raise ValidationFailed(f"{where}, row {number}, column '{label_column}': the label is empty")
            labels.append(str(label).strip())
    return ItemFile(str(where), texts, labels)


def drift_between_files(
    path_a: str | Path,
    path_b: str | Path,
    *,
    text_column: str = "text",
    label_column: str | None = None,
    seed: int = 0,
    n_permutations: int = 0,
    n_folds: int = 5,
) -> tuple[DriftReport, ItemFile, ItemFile, Sequence[str]]:
    """The drift report of file B against file A, both files, and the label values in code order."""
    a = read_item_file(path_a, text_column=text_column, label_column=label_column)
    b = read_item_file(path_b, text_column=text_column, label_column=label_column)
    for f in (a, b):
        if len(f.texts) < n_folds:
            raise ValidationFailed(f"{f.path}: {len(f.texts)} rows; the drift check needs at least {n_folds}")
    xa, xb = hashed_tfidf_pair(a.texts, b.texts)
    lex = default_lexicon()
    values: list[str] = sorted(set(a.labels or []) | set(b.labels or []))
    code = {v: i for i, v in enumerate(values)}
    report = drift_report(
        xa,
        xb,
        rng=np.random.default_rng(seed),
        labels_a=[code[v] for v in a.labels] if a.labels is not None else None,
        labels_b=[code[v] for v in b.labels] if b.labels is not None else None,
        lengths_a=[len(t) for t in a.texts],
        lengths_b=[len(t) for t in b.texts],
        groups_a=groups_from_text(a.texts, lex).masks(include_empty=True),
        groups_b=groups_from_text(b.texts, lex).masks(include_empty=True),
        n_permutations=n_permutations,
        n_folds=n_folds,
    )
    return report, a, b, values
