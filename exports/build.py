"""``build_release``: stream records into versioned, verifiable release files."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any

from exports.datasheet import DatasheetInfo, render_datasheet
from exports.encoding import Chunk, empty_chunk
from exports.errors import ReleaseInputError
from exports.keys import salt_fingerprint, sha256_file
from exports.manifest import DATASHEET_NAME, MANIFEST_NAME, FileEntry, Manifest, ReleaseMeta
from exports.records import LabelSpace, ReleaseRecord, label_space
from exports.rows import Row, RowMaker
from exports.splits import SplitAssigner, SplitRatios
from exports.writers import FORMATS, PAIR_FORMATS, RowWriter, TrlWriter, open_writer, relative_path

DEFAULT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
DEFAULT_CHUNK_ROWS = 8192
_MAX_ITEM_ID = (1 << 63) - 1


def build_release(
    records: Iterable[ReleaseRecord],
    *,
    kind: str,
    out_dir: Path | str,
    salt: bytes | str,
    release_meta: ReleaseMeta,
    formats: Sequence[str] = DEFAULT_FORMATS,
    split_ratios: SplitRatios | None = None,
    classes: Sequence[str] | None = None,
    datasheet: DatasheetInfo | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    graded: bool = False,
) -> Manifest:
    """Write a release of ``records`` into the new folder ``out_dir`` and return its manifest.

    ``records`` must come **sorted by strictly increasing ``item_id``** (e.g.
    ``Item.objects.order_by("id").iterator()``); the builder checks this and never sorts, so
    memory stays constant in the number of records: it holds at most ``chunk_rows`` rows per
    split, plus the set of distinct annotator pseudonyms.

    Layout: ``<format>/<split>.<ext>`` for each format and split with a non-zero ratio,
    ``DATASHEET.md`` and ``manifest.json`` (which lists every other file with sha256 and size).
    Files are built in a hidden sibling folder and renamed into place at the end, so
    ``out_dir`` never holds half a release; it must not exist yet (releases are immutable).

    ``graded`` (preference only): the records carry a consensus ``strength``; every file gets a
    ``strength`` column and the TRL files a ``margin`` (see :mod:`exports.writers`).

    Raises :class:`~exports.errors.ReleaseInputError` for bad arguments or a bad record (the
    message names the record position, its ``item_id`` and the field).
    """
    space = label_space(kind, classes, graded=graded)
    ratios = split_ratios if split_ratios is not None else SplitRatios()
    if not isinstance(ratios, SplitRatios):
        raise ReleaseInputError("split_ratios must be a SplitRatios", field="split_ratios")
    if not isinstance(release_meta, ReleaseMeta):
        raise ReleaseInputError("release_meta must be a ReleaseMeta", field="release_meta")
    fmts = _check_formats(formats, kind)
    if type(chunk_rows) is not int or chunk_rows < 1:
        raise ReleaseInputError(f"chunk_rows must be a positive int, got {chunk_rows!r}", field="chunk_rows")
    assign = SplitAssigner(salt, ratios)
    target = Path(out_dir)
    if target.exists():
        raise ReleaseInputError(
            f"{target} already exists; a release folder is written once and never updated",
            field="out_dir",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    split_info = {
        "method": "hmac-sha256(salt, item_id) as a uniform number in [0, 1), cut by ratios",
        "ratios": ratios.as_dict(),
        "salt_fingerprint": salt_fingerprint(salt),
    }
    try:
        manifest = _build(
            records,
            space=space,
            staging=staging,
            fmts=fmts,
            splits=ratios.active(),
            assign=assign,
            split_info=split_info,
            meta=release_meta,
            info=datasheet,
            chunk_rows=chunk_rows,
        )
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _check_formats(formats: Sequence[str], kind: str) -> tuple[str, ...]:
    if isinstance(formats, str) or not formats:
        raise ReleaseInputError(
            f"formats must be a non-empty list drawn from {list(FORMATS)}, got {formats!r}",
            field="formats",
        )
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ReleaseInputError(
            f"unknown formats {unknown}; valid formats: {', '.join(FORMATS)}", field="formats"
        )
    for fmt in PAIR_FORMATS:
        if fmt in formats and kind != "preference":
            raise ReleaseInputError(
                f"the {fmt} format needs a preference project, not {kind!r}", field="formats"
            )
    # Canonical order, so the manifest's file list doesn't depend on the caller's order.
    return tuple(fmt for fmt in FORMATS if fmt in formats)


class _Stats:
    """Running counts for the manifest; constant memory (the distinct annotators are counted
    by the row maker, which keeps them anyway).

    Counts are taken per flushed chunk (integers: the order does not matter), except the quality
    sum, which the reader adds up record by record so the float total, and hence the manifest's
    bytes, never depend on how the records fall into chunks."""

    def __init__(self, kind: str, classes: Sequence[str], splits: Sequence[str]) -> None:
        self.multi = kind == "multilabel"
        self.by_split = dict.fromkeys(splits, 0)
        self.by_split_label = {split: dict.fromkeys(classes, 0) for split in splits}
        self.no_label_by_split = dict.fromkeys(splits, 0)
        self.annotations = 0
        self.quality_count = 0
        self.quality_sum = 0.0
        self.quality_min = 1.0
        self.quality_max = 0.0

    def add_chunk(self, split: str, rows: list[Row]) -> None:
        self.by_split[split] += len(rows)
        per_label = self.by_split_label[split]
        if self.multi:
            label_sets = [row["labels"] for row in rows]
            self.no_label_by_split[split] += label_sets.count(())
            counts = Counter(chain.from_iterable(label_sets))
        else:
            counts = Counter([row["label"] for row in rows])
        for name, count in counts.items():
            per_label[name] += count
        self.annotations += sum([row["annotator_count"] for row in rows])
        qualities = [q for row in rows if (q := row["quality"]) is not None]
        if qualities:
            self.quality_count += len(qualities)
            self.quality_min = min(self.quality_min, *qualities)
            self.quality_max = max(self.quality_max, *qualities)

    def to_dict(self, classes: Sequence[str], annotators: int) -> dict[str, Any]:
        by_label = {name: sum(counts[name] for counts in self.by_split_label.values()) for name in classes}
        result: dict[str, Any] = {
            "records": sum(self.by_split.values()),
            "by_split": self.by_split,
            "by_label": by_label,
            "by_split_and_label": self.by_split_label,
        }
        if self.multi:
            result["no_label"] = sum(self.no_label_by_split.values())
            result["no_label_by_split"] = self.no_label_by_split
        count = self.quality_count
        result["annotators"] = annotators
        result["annotations"] = self.annotations
        result["quality"] = {
            "count": count,
            "mean": self.quality_sum / count if count else None,
            "min": self.quality_min if count else None,
            "max": self.quality_max if count else None,
        }
        return result


def _build(
    records: Iterable[ReleaseRecord],
    *,
    space: LabelSpace,
    staging: Path,
    fmts: tuple[str, ...],
    splits: tuple[str, ...],
    assign: SplitAssigner,
    split_info: dict[str, Any],
    meta: ReleaseMeta,
    info: DatasheetInfo | None,
    chunk_rows: int,
) -> Manifest:
    empty = empty_chunk(space)
    writers: dict[tuple[str, str], RowWriter] = {}
    try:
        for fmt in fmts:
            for split in splits:
                path = staging / relative_path(fmt, split)
                writers[(fmt, split)] = open_writer(fmt, path, space, chunk_rows, empty)
        stats = _stream(records, space, assign, writers, fmts, splits, chunk_rows)
    finally:
        for writer in writers.values():
            writer.close()
    for pair_format in (fmt for fmt in PAIR_FORMATS if fmt in fmts):
        trl = {split: writers[(pair_format, split)] for split in splits}
        stats[pair_format] = {
            "pairs": sum(w.rows for w in trl.values()),
            "ties_excluded": sum(w.ties for w in trl.values() if isinstance(w, TrlWriter)),
            "pairs_by_split": {split: w.rows for split, w in trl.items()},
            "margin": space.graded,
        }
    entries = [
        _entry(staging, relative_path(fmt, split), fmt, split, writers[(fmt, split)])
        for fmt in fmts
        for split in splits
    ]

    def manifest_of(files: list[FileEntry]) -> Manifest:
        return Manifest(
            kind=space.kind,
            classes=space.classes,
            release=meta,
            splits=split_info,
            stats=stats,
            files=tuple(files),
        )

    sheet = render_datasheet(manifest_of(entries), info or DatasheetInfo())
    (staging / DATASHEET_NAME).write_text(sheet, encoding="utf-8", newline="\n")
    entries.append(_entry(staging, DATASHEET_NAME, "datasheet", None))
    manifest = manifest_of(entries)
    (staging / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    return manifest


def _stream(
    records: Iterable[ReleaseRecord],
    space: LabelSpace,
    assign: SplitAssigner,
    writers: dict[tuple[str, str], RowWriter],
    fmts: tuple[str, ...],
    splits: tuple[str, ...],
    chunk_rows: int,
) -> dict[str, Any]:
    """Validate, split, count and write every record; at most ``chunk_rows`` rows per split
    are held at a time. Returns the manifest's stats."""
    make_row = RowMaker(space)
    schema = empty_chunk(space).batch.schema
    buffers: dict[str, list[Row]] = {split: [] for split in splits}
    stats = _Stats(space.kind, space.classes, splits)
    behind = _WriteBehind()

    def flush(split: str) -> None:
        chunk = Chunk(buffers[split], space, schema)
        buffers[split] = []
        stats.add_chunk(split, chunk.rows)
        # Encode here (see Chunk.prepare); compression, hashing and writes go to the background.
        chunk.prepare(fmts)
        chunk_writers = [writers[(fmt, split)] for fmt in fmts]

        def write() -> None:
            for writer in chunk_writers:
                writer.write(chunk)

        behind.submit(write)

    try:
        _read_all(records, make_row, assign, stats, buffers, flush, chunk_rows)
        for split in splits:
            if buffers[split]:
                flush(split)
    finally:
        behind.close()
    return stats.to_dict(space.classes, annotators=make_row.annotator_count)


def _read_all(
    records: Iterable[ReleaseRecord],
    make_row: RowMaker,
    assign: SplitAssigner,
    stats: _Stats,
    buffers: dict[str, list[Row]],
    flush: Callable[[str], None],
    chunk_rows: int,
) -> None:
    previous = -1
    quality_sum = 0.0
    for index, record in enumerate(records):
        item_id = getattr(record, "item_id", None)
        if type(item_id) is not int or not previous < item_id <= _MAX_ITEM_ID:
            item_id = RowMaker.check_item_id(item_id, index)
            raise ReleaseInputError(
                f"record #{index} (item_id={item_id}): records must come sorted by strictly "
                f"increasing item_id, but it follows item_id={previous}",
                index=index,
                item_id=item_id,
                field="item_id",
            )
        previous = item_id
        split = assign(item_id)
        row = make_row(record, index, split)
        quality = row["quality"]
        if quality is not None:
            quality_sum += quality  # in record order, see _Stats
        buffer = buffers[split]
        buffer.append(row)
        if len(buffer) >= chunk_rows:
            flush(split)
    stats.quality_sum = quality_sum


class _WriteBehind:
    """Runs chunk writes on one background thread, one chunk behind the reader.

    Arrow's Parquet and CSV writers, hashing and plain file writes release the GIL, so on a
    second core they overlap with validating the next records. At most one chunk is in flight
    (``submit`` waits for the previous one), so memory stays bounded, and a single worker keeps
    every file's writes in submission order, so the bytes don't depend on timing. A failed
    write re-raises in the caller at the next ``submit`` or at ``close``.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exports-writer")
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        self.wait()
        self._pending = self._pool.submit(write)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _entry(root: Path, rel: str, fmt: str, split: str | None, writer: RowWriter | None = None) -> FileEntry:
    """A manifest entry; a data file's sha256 comes from its writer (see ``RowWriter.sha256``)."""
    path = root / rel
    return FileEntry(
        path=rel,
        format=fmt,
        split=split,
        rows=None if writer is None else writer.rows,
        bytes=path.stat().st_size,
        sha256=sha256_file(path) if writer is None else writer.sha256(),
    )
