"""Benchmark: build a multi-label toxicity release of up to 1,000,000 generated records.

Records are generated lazily by resampling and perturbing rows of
``../shared/data/jigsaw_toxic_sample.csv`` (new item ids, a suffix on the text, simulated
annotators who flip each class with 10 % probability). Nothing is downloaded.

Each size runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own; the table
shows that memory stays flat while the record count grows. Each size is also written by the
**bare writers** in their own fresh child process, from the same generator: orjson JSON lines,
Arrow's CSV writer and a zstd Parquet file of the same records, one file per format, with no
validation, splits, stats, hashes or manifest (:func:`bare_write`). The release's time divided
by theirs is the figure that matters (issue 14 asks for at most 1.5x); both include the
generator, whose own time is printed too. The largest release is then read
back like a client would: sha256-verified against its manifest, and its Parquet scanned.

    .venv/bin/python bench/release_build.py            # 100k, 300k, 1M (writes var/bench/)
    .venv/bin/python bench/release_build.py --quick    # smoke run, a few seconds
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.csv as pa_csv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from exports import (  # noqa: E402  (the repo root must be importable when run as a script)
    MultiLabelRecord,
    MultiLabelVote,
    ReleaseMeta,
    build_release,
    diff_releases,
    pseudonymize,
    verify_release,
)
from exports.records import label_space  # noqa: E402
from exports.rows import arrow_schema  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "jigsaw_toxic_sample.csv"
OUT = ROOT / "var" / "bench"
CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
SALT = "bench-salt-not-a-secret-0123456789"
ANNOTATOR_POOL = 400
VOTES_PER_ITEM = 3
FLIP_PROBABILITY = 0.1
VARIANTS_PER_ROW = 16
FORMATS = ("jsonl", "csv", "parquet")


def generate(n: int, seed: int = 0) -> Iterator[MultiLabelRecord]:
    """Yield ``n`` records sorted by item id, one at a time (nothing is materialized).

    Annotator noise is drawn per (row, variant) up front, so the per-record cost is one random
    draw and one dataclass: the benchmark measures the library, not the generator. Each record
    gets a unique external id, and every other one a perturbed text.
    """
    with DATA.open(encoding="utf-8", newline="") as handle:
        base = [
            (row["id"], row["comment_text"], tuple(c for c in CLASSES if row[c] == "1"))
            for row in csv.DictReader(handle)
        ]
    rng = random.Random(seed)
    pool = [pseudonymize(f"annotator-{k}", SALT) for k in range(ANNOTATOR_POOL)]
    variants = [[_variant(labels, pool, rng) for _ in range(VARIANTS_PER_ROW)] for _, _, labels in base]
    qualities = [round(k / 1023, 4) for k in range(1024)]
    rows = len(base)
    for item_id in range(n):
        bits = rng.getrandbits(48)
        external_id, text, _ = base[(bits >> 14) % rows]
        votes, consensus, soft = variants[(bits >> 14) % rows][(bits >> 10) % VARIANTS_PER_ROW]
        yield MultiLabelRecord(
            item_id=item_id,
            external_id=f"{external_id}-{item_id}",
            text=f"{text} [{item_id}]" if item_id & 1 else text,
            labels=consensus,
            soft_label=soft,
            annotations=votes,
            quality=qualities[bits & 1023],
        )


def _variant(
    truth: tuple[str, ...], pool: list[str], rng: random.Random
) -> tuple[tuple[MultiLabelVote, ...], tuple[str, ...], dict[str, float]]:
    """Three simulated annotators who each flip every class with 10 % probability."""
    annotators = rng.sample(pool, VOTES_PER_ITEM)
    labels = [
        tuple(c for c in CLASSES if (c in truth) != (rng.random() < FLIP_PROBABILITY))
        for _ in range(VOTES_PER_ITEM)
    ]
    soft = {c: sum(c in v for v in labels) / VOTES_PER_ITEM for c in CLASSES}
    consensus = tuple(c for c in CLASSES if soft[c] > 0.5)
    votes = tuple(MultiLabelVote(a, v) for a, v in zip(annotators, labels, strict=True))
    return votes, consensus, soft


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


BARE_CHUNK = 8192


def bare_write(records: Iterable[MultiLabelRecord], out_dir: Path) -> dict[str, int]:
    """The baseline: the same records straight into the three formats with the plainest fast
    code (orjson per line, Arrow arrays built column by column, Arrow's CSV and Parquet
    writers), no validation, no splits, no stats, no hashing. Returns bytes per format."""
    out_dir.mkdir(parents=True)
    schema = arrow_schema(label_space("multilabel")).remove(2)  # no split column
    soft_type = schema.field("soft_label").type
    votes_type = schema.field("annotations").type
    line = orjson.OPT_APPEND_NEWLINE
    jsonl = (out_dir / "all.jsonl").open("wb", buffering=1 << 20)
    parquet = pq.ParquetWriter(str(out_dir / "all.parquet"), schema, compression="zstd")
    csv_writer: pa_csv.CSVWriter | None = None
    iterator = iter(records)
    while chunk := [record for _, record in zip(range(BARE_CHUNK), iterator, strict=False)]:
        votes = [[{"annotator": v.annotator, "labels": v.labels} for v in r.annotations] for r in chunk]
        jsonl.write(
            b"".join(
                [
                    orjson.dumps(
                        {
                            "item_id": r.item_id,
                            "external_id": r.external_id,
                            "text": r.text,
                            "labels": r.labels,
                            "soft_label": r.soft_label,
                            "quality": r.quality,
                            "annotator_count": len(v),
                            "annotations": v,
                        },
                        option=line,
                    )
                    for r, v in zip(chunk, votes, strict=True)
                ]
            )
        )
        labels = pa.array([r.labels for r in chunk], pa.list_(pa.string()))
        soft = pa.array([r.soft_label for r in chunk], soft_type)
        columns = [
            pa.array([r.item_id for r in chunk], pa.int64()),
            pa.array([r.external_id for r in chunk], pa.string()),
            pa.array([r.text for r in chunk], pa.string()),
            labels,
            soft,
            pa.array([r.quality for r in chunk], pa.float64()),
            pa.array([len(v) for v in votes], pa.int32()),
            pa.array(votes, votes_type),
        ]
        parquet.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
        flat = pa.RecordBatch.from_arrays(
            [
                *columns[:3],
                pc.binary_join(labels, "|"),
                *soft.flatten(),
                columns[5],
                columns[6],
                pa.array([orjson.dumps(v) for v in votes], pa.string()),
            ],
            names=["item_id", "external_id", "text", "labels", *(f"soft_{c}" for c in CLASSES)]
            + ["quality", "annotator_count", "annotations"],
        )
        if csv_writer is None:
            csv_writer = pa_csv.CSVWriter(str(out_dir / "all.csv"), flat.schema)
        csv_writer.write_batch(flat)
    jsonl.close()
    parquet.close()
    if csv_writer is not None:
        csv_writer.close()
    return {fmt: (out_dir / f"all.{fmt}").stat().st_size for fmt in FORMATS}


def bare_child(n: int, out_dir: Path) -> None:
    """Run the bare writers once and print one JSON line of measurements."""
    baseline = _peak_rss_mb()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    started, cpu = time.perf_counter(), _cpu_seconds()
    by_format = bare_write(generate(n), out_dir)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    started_gen, cpu_gen = time.perf_counter(), _cpu_seconds()
    for _ in generate(n):
        pass
    gen_seconds, gen_cpu = time.perf_counter() - started_gen, _cpu_seconds() - cpu_gen
    shutil.rmtree(out_dir)
    print(
        json.dumps(
            {
                "records": n,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "generator_seconds": gen_seconds,
                "generator_cpu_seconds": gen_cpu,
                "load_average_1m": os.getloadavg()[0],
                "baseline_rss_mb": baseline,
                "peak_rss_mb": _peak_rss_mb(),
                "bytes": sum(by_format.values()),
            }
        )
    )


def child(n: int, out_dir: Path) -> None:
    """Build one release and print one JSON line of measurements."""
    baseline = _peak_rss_mb()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    started, cpu = time.perf_counter(), _cpu_seconds()
    manifest = build_release(
        generate(n),
        kind="multilabel",
        out_dir=out_dir,
        salt=SALT,
        formats=FORMATS,
        release_meta=ReleaseMeta(
            version=f"bench-{n}",
            label_config_hash="bench",
            created_by="bench/release_build.py",
            source_state={"generator": "jigsaw_toxic_sample.csv resampled", "records": n},
        ),
    )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    files = [entry.to_dict() for entry in manifest.files]
    print(
        json.dumps(
            {
                "records": n,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "load_average_1m": os.getloadavg()[0],
                "baseline_rss_mb": baseline,
                "peak_rss_mb": _peak_rss_mb(),
                "bytes": sum(entry["bytes"] for entry in files),
                "bytes_by_format": {
                    fmt: sum(e["bytes"] for e in files if e["format"] == fmt) for fmt in FORMATS
                },
            }
        )
    )


def read_back(release: Path) -> dict[str, float]:
    """Client-side read throughput: sha256 verification and a Parquet scan."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    manifest = verify_release(release)
    verify_seconds = time.perf_counter() - started
    total = sum(entry.bytes for entry in manifest.files)
    parquet = [release / e.path for e in manifest.files if e.format == "parquet"]
    parquet_bytes = sum(path.stat().st_size for path in parquet)
    started = time.perf_counter()
    rows = 0
    for path in parquet:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
            rows += batch.num_rows
    scan_seconds = time.perf_counter() - started
    return {
        "verified_bytes": total,
        "verify_seconds": verify_seconds,
        "verify_mb_s": total / 1e6 / verify_seconds,
        "parquet_rows": rows,
        "parquet_bytes": parquet_bytes,
        "parquet_scan_seconds": scan_seconds,
        "parquet_rows_s": rows / scan_seconds,
        "parquet_mb_s": parquet_bytes / 1e6 / scan_seconds,
    }


def time_diff(old: Path, new: Path, out: Path) -> dict[str, float]:
    """Diff two releases (the smaller one is a prefix of the larger: same generator seed)."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = diff_releases(old, new, out_dir=out)
    seconds = time.perf_counter() - started
    compared = summary.added + summary.removed + summary.relabeled + summary.unchanged
    return {
        "diff_seconds": seconds,
        "diff_items": compared,
        "diff_added": summary.added,
        "diff_relabeled": summary.relabeled,
        "diff_items_s": compared / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run with small sizes")
    parser.add_argument("--sizes", help="comma-separated record counts (default 100k,300k,1M)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--keep", action="store_true", help="keep the smaller releases on disk")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.out)
        return
    if args.bare_child is not None:
        bare_child(args.bare_child, args.out)
        return
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [2_000, 6_000, 20_000] if args.quick else [100_000, 300_000, 1_000_000]
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        bare = _run_child("--bare-child", n, args.out / f"bare-{n}")
        result = _run_child("--child", n, args.out / f"release-{n}")
        result["bare"] = bare
        results.append(result)
        print(
            f"built {n:>9,} records in {result['seconds']:6.1f} s ({result['cpu_seconds']:.1f} s CPU), "
            f"peak RSS {result['peak_rss_mb']:.0f} MB; bare writers {bare['seconds']:.1f} s "
            f"({bare['cpu_seconds']:.1f} s CPU), peak RSS {bare['peak_rss_mb']:.0f} MB: "
            f"{result['seconds'] / bare['seconds']:.2f}x wall, "
            f"{result['cpu_seconds'] / bare['cpu_seconds']:.2f}x CPU",
            flush=True,
        )
    largest = args.out / f"release-{sizes[-1]}"
    read = read_back(largest)
    if len(sizes) > 1:
        read.update(time_diff(args.out / f"release-{sizes[-2]}", largest, args.out / "diff"))
    if not args.keep:
        for n in sizes[:-1]:
            shutil.rmtree(args.out / f"release-{n}", ignore_errors=True)
    _report(results, read, largest)
    (args.out / "results.json").write_text(json.dumps({"builds": results, "read": read}, indent=2))


def _run_child(flag: str, n: int, target: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, flag, str(n), "--out", str(target)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _report(results: list[dict[str, Any]], read: dict[str, float], largest: Path) -> None:
    first = results[0]
    print()
    print(
        "| records | build s (wall) | CPU s | load avg | records/s | output MB | peak RSS MB "
        "| over imports MB | x records | x RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['records']:,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['load_average_1m']:.1f} "
            f"| {r['records'] / r['seconds']:,.0f} "
            f"| {r['bytes'] / 1e6:,.0f} | {r['peak_rss_mb']:.0f} "
            f"| {r['peak_rss_mb'] - r['baseline_rss_mb']:.0f} "
            f"| {r['records'] / first['records']:.1f} | {r['peak_rss_mb'] / first['peak_rss_mb']:.2f} |"
        )
    print(
        "\n| records | release s | bare writers s | x wall | release CPU s | bare CPU s | x CPU "
        "| generator CPU s | release RSS MB | bare RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        b = r["bare"]
        print(
            f"| {r['records']:,} | {r['seconds']:.1f} | {b['seconds']:.1f} "
            f"| {r['seconds'] / b['seconds']:.2f} "
            f"| {r['cpu_seconds']:.1f} | {b['cpu_seconds']:.1f} | {r['cpu_seconds'] / b['cpu_seconds']:.2f} "
            f"| {b['generator_cpu_seconds']:.1f} | {r['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} |"
        )
    worst = max(r["cpu_seconds"] / r["bare"]["cpu_seconds"] for r in results)
    print(f"target: release within 1.5x of the bare writers; worst CPU ratio {worst:.2f}x")
    last = results[-1]
    by_format = ", ".join(f"{fmt} {b / 1e6:,.0f} MB" for fmt, b in last["bytes_by_format"].items())
    print(f"\nlargest release: {largest} ({by_format})")
    print(
        f"read back: sha256 verify {read['verified_bytes'] / 1e6:,.0f} MB in "
        f"{read['verify_seconds']:.1f} s = {read['verify_mb_s']:,.0f} MB/s; "
        f"Parquet scan {read['parquet_rows']:,} rows in {read['parquet_scan_seconds']:.2f} s = "
        f"{read['parquet_rows_s']:,.0f} rows/s ({read['parquet_mb_s']:,.0f} MB/s of compressed file)"
    )
    if "diff_seconds" in read:
        print(
            f"diff against the previous size: {read['diff_items']:,.0f} items compared "
            f"({read['diff_added']:,.0f} added) in {read['diff_seconds']:.1f} s = "
            f"{read['diff_items_s']:,.0f} items/s"
        )


if __name__ == "__main__":
    main()
