"""Benchmark: build a multi-label toxicity release of up to 1,000,000 generated records.

Records are generated lazily by resampling and perturbing rows of
``../shared/data/jigsaw_toxic_sample.csv`` (new item ids, a suffix on the text, simulated
annotators who flip each class with 10 % probability). Nothing is downloaded.

Each size runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own; the table
shows that memory stays flat while the record count grows. The largest release is then read
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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exports import (  # noqa: E402  (the repo root must be importable when run as a script)
    MultiLabelRecord,
    MultiLabelVote,
    ReleaseMeta,
    build_release,
    diff_releases,
    pseudonymize,
    verify_release,
)

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
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.out)
        return
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [2_000, 6_000, 20_000] if args.quick else [100_000, 300_000, 1_000_000]
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        target = args.out / f"release-{n}"
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--out", str(target)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"built {n:>9,} records in {result['seconds']:6.1f} s ({result['cpu_seconds']:.1f} s CPU), "
            f"peak RSS {result['peak_rss_mb']:.0f} MB",
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


def _report(results: list[dict[str, float]], read: dict[str, float], largest: Path) -> None:
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
