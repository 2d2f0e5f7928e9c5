"""Compare two releases of one project: items added, removed, relabeled, moved between splits.

Both releases are read from their own record files (Parquet when the release has it, else
JSONL), split files merged by ``item_id`` and the two streams merge-joined, so memory stays
constant in the number of records. The change list is written as CSV and/or JSONL.
"""

from __future__ import annotations

import csv
import dataclasses
import heapq
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
import pyarrow.parquet as pq

from exports.errors import ReleaseFormatError, ReleaseInputError
from exports.keys import sha256_file
from exports.manifest import FileEntry, Manifest, read_manifest
from exports.rows import label_field
from exports.writers import escape_formula

DIFF_FORMATS: tuple[str, ...] = ("csv", "jsonl")
DIFF_COLUMNS: tuple[str, ...] = (
    "change",
    "item_id",
    "external_id",
    "old_split",
    "new_split",
    "old_label",
    "new_label",
    "attributed_to",
)
DIFF_SUMMARY_NAME = "diff.json"
_READ_BATCH = 8192


class LabelRow(NamedTuple):
    """What a diff needs of a record. Multilabel ``label`` is the classes joined by ``|``
    (empty string: no class)."""

    item_id: int
    external_id: str
    split: str
    label: str


@dataclass(frozen=True)
class DiffSummary:
    """Counts of a diff and the files holding its change list (``relabel_transitions``
    maps ``"old -> new"`` to a count)."""

    kind: str
    old_version: str
    new_version: str
    added: int
    removed: int
    relabeled: int
    moved: int
    unchanged: int
    relabel_transitions: dict[str, int]
    files: tuple[FileEntry, ...]
    # Per source (say "campaign 3"): its items' ``changed`` / ``unchanged`` (in both releases)
    # and ``added``; and the relabels no source claims.
    attribution: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    relabeled_unattributed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "counts": {
                "added": self.added,
                "removed": self.removed,
                "relabeled": self.relabeled,
                "moved": self.moved,
                "unchanged": self.unchanged,
            },
            "relabel_transitions": self.relabel_transitions,
            "attribution": self.attribution,
            "relabeled_unattributed": self.relabeled_unattributed,
            "files": [entry.to_dict() for entry in self.files],
        }


def iter_release_labels(folder: Path | str) -> Iterator[LabelRow]:
    """Stream ``(item_id, external_id, split, label)`` of a release, sorted by ``item_id``."""
    root = Path(folder)
    manifest = read_manifest(root)
    fmt = _readable_format(manifest, root)
    streams = [
        _checked_order(_read_file(root / entry.path, fmt, manifest.kind), entry.path)
        for entry in manifest.files
        if entry.format == fmt
    ]
    return heapq.merge(*streams, key=_item_id)


def diff_releases(
    old: Path | str,
    new: Path | str,
    *,
    out_dir: Path | str,
    formats: Sequence[str] = DIFF_FORMATS,
    attribution: Mapping[int, str] | None = None,
) -> DiffSummary:
    """Diff release folder ``old`` against ``new``; write ``diff.csv`` / ``diff.jsonl``
    (columns :data:`DIFF_COLUMNS`, one row per changed item, sorted by ``item_id``) and
    ``diff.json`` (the summary) into ``out_dir``.

    ``change`` is ``added``, ``removed``, ``relabeled`` (consensus changed; the split columns
    show whether it also moved) or ``moved`` (same consensus, different split; this only
    happens if the split salt or ratios changed between the two releases).

    ``attribution`` maps item ids to the source that may have set their new label (the caller
    decides, e.g. the relabel campaign whose follow-up answer came in between): a changed
    row's ``attributed_to`` names it, and the summary counts per source its items ``changed``,
    ``unchanged`` (in both releases) and ``added``.
    """
    unknown = [fmt for fmt in formats if fmt not in DIFF_FORMATS]
    if unknown or isinstance(formats, str):
        raise ReleaseInputError(
            f"diff formats must be drawn from {list(DIFF_FORMATS)}, got {formats!r}",
            field="formats",
        )
    old_manifest, new_manifest = read_manifest(old), read_manifest(new)
    if old_manifest.kind != new_manifest.kind:
        raise ReleaseFormatError(
            f"cannot diff a {old_manifest.kind!r} release against a {new_manifest.kind!r} one"
        )
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    sinks = _DiffSinks(target, formats)
    counts: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    sources = attribution or {}
    per_source: dict[str, Counter[str]] = {name: Counter() for name in sorted(set(sources.values()))}
    try:
        joined = _merge_join(iter_release_labels(old), iter_release_labels(new))
        for change, key, before, after in joined:
            counts[change] += 1
            if before is not None and after is not None and before.split != after.split:
                counts["moved_any"] += 1
            if change == "relabeled" and before is not None and after is not None:
                transitions[f"{before.label} -> {after.label}"] += 1
            source = sources.get(key.item_id)
            if source is not None and change != "removed":
                outcome = {"relabeled": "changed", "added": "added"}.get(change, "unchanged")
                per_source[source][outcome] += 1
            elif change == "relabeled":
                counts["relabeled_unattributed"] += 1
            if change != "unchanged":
                sinks.write(_diff_row(change, key, before, after, source))
    finally:
        sinks.close()
    entries = tuple(
        FileEntry(
            path=name,
            format=fmt,
            split=None,
            rows=sinks.rows,
            bytes=(target / name).stat().st_size,
            sha256=sha256_file(target / name),
        )
        for fmt, name in sinks.names
    )
    summary = DiffSummary(
        kind=new_manifest.kind,
        old_version=old_manifest.release.version,
        new_version=new_manifest.release.version,
        added=counts["added"],
        removed=counts["removed"],
        relabeled=counts["relabeled"],
        moved=counts["moved_any"],
        unchanged=counts["unchanged"],
        relabel_transitions=dict(sorted(transitions.items())),
        files=entries,
        attribution={
            name: {outcome: found[outcome] for outcome in ("changed", "unchanged", "added")}
            for name, found in per_source.items()
        },
        relabeled_unattributed=counts["relabeled_unattributed"],
    )
    text = json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n"
    (target / DIFF_SUMMARY_NAME).write_text(text, encoding="utf-8", newline="\n")
    return summary


Change = tuple[str, LabelRow, LabelRow | None, LabelRow | None]


def _merge_join(old: Iterator[LabelRow], new: Iterator[LabelRow]) -> Iterator[Change]:
    before, after = next(old, None), next(new, None)
    while before is not None or after is not None:
        if before is not None and (after is None or before.item_id < after.item_id):
            yield "removed", before, before, None
            before = next(old, None)
        elif after is not None and (before is None or after.item_id < before.item_id):
            yield "added", after, None, after
            after = next(new, None)
        elif before is not None and after is not None:  # same item_id on both sides
            if before.label != after.label:
                change = "relabeled"
            elif before.split != after.split:
                change = "moved"
            else:
                change = "unchanged"
            yield change, after, before, after
            before, after = next(old, None), next(new, None)


def _diff_row(
    change: str, key: LabelRow, before: LabelRow | None, after: LabelRow | None, source: str | None
) -> dict[str, Any]:
    return {
        "change": change,
        "item_id": key.item_id,
        "external_id": key.external_id,
        "old_split": before.split if before else None,
        "new_split": after.split if after else None,
        "old_label": before.label if before else None,
        "new_label": after.label if after else None,
        "attributed_to": source if change != "removed" else None,
    }


class _DiffSinks:
    def __init__(self, root: Path, formats: Sequence[str]) -> None:
        self.rows = 0
        self.names: list[tuple[str, str]] = []
        self._jsonl: IO[bytes] | None = None
        self._csv_file: IO[str] | None = None
        self._csv: Any = None
        if "csv" in formats:
            self.names.append(("csv", "diff.csv"))
            self._csv_file = (root / "diff.csv").open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._csv_file, lineterminator="\r\n")
            self._csv.writerow(DIFF_COLUMNS)
        if "jsonl" in formats:
            self.names.append(("jsonl", "diff.jsonl"))
            self._jsonl = (root / "diff.jsonl").open("wb", buffering=1 << 20)

    def write(self, row: dict[str, Any]) -> None:
        self.rows += 1
        if self._jsonl is not None:
            self._jsonl.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        if self._csv is not None:
            self._csv.writerow(
                [escape_formula(v) if isinstance(v, str) else ("" if v is None else v) for v in row.values()]
            )

    def close(self) -> None:
        for handle in (self._jsonl, self._csv_file):
            if handle is not None:
                handle.close()


def _readable_format(manifest: Manifest, root: Path) -> str:
    present = {entry.format for entry in manifest.files}
    for fmt in ("parquet", "jsonl"):
        if fmt in present:
            return fmt
    raise ReleaseFormatError(
        f"release at {root} has neither parquet nor jsonl record files to diff (formats: {sorted(present)})"
    )


def _read_file(path: Path, fmt: str, kind: str) -> Iterator[LabelRow]:
    column = label_field(kind)
    multi = kind == "multilabel"
    if not path.is_file():
        raise ReleaseFormatError(f"{path} is listed in the manifest but missing", path=str(path))
    if fmt == "parquet":
        columns = ["item_id", "external_id", "split", column]
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_READ_BATCH, columns=columns):
            data = batch.to_pydict()
            labels = data[column]
            for item_id, external_id, split, label in zip(
                data["item_id"], data["external_id"], data["split"], labels, strict=True
            ):
                yield LabelRow(item_id, external_id, split, "|".join(label) if multi else label)
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                row = orjson.loads(line)
                label = row[column]
                yield LabelRow(
                    row["item_id"],
                    row["external_id"],
                    row["split"],
                    "|".join(label) if multi else label,
                )
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise ReleaseFormatError(
                    f"{path}:{number}: not a release record ({exc})", path=str(path), line=number
                ) from exc


def _checked_order(rows: Iterator[LabelRow], name: str) -> Iterator[LabelRow]:
    previous = -1
    for row in rows:
        if row.item_id <= previous:
            raise ReleaseFormatError(
                f"{name}: item_id {row.item_id} follows {previous}; release files must be sorted by item_id",
                path=name,
            )
        previous = row.item_id
        yield row


def _item_id(row: LabelRow) -> int:
    return row.item_id
