"""Small deterministic record streams per kind, over the shared Jigsaw and HH-RLHF samples."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from exports import (
    BinaryRecord,
    MultiLabelRecord,
    MultiLabelVote,
    PreferenceRecord,
    ReleaseMeta,
    Vote,
    pseudonymize,
)

SALT = "test-salt-0123456789abcdef"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MULTILABEL_CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
ANNOTATORS = [pseudonymize(f"user{n}@example.org", SALT) for n in range(7)]


def meta(version: str = "1", **overrides: object) -> ReleaseMeta:
    fields: dict[str, object] = {
        "version": version,
        "label_config_hash": "sha256:0f00",
        "created_by": "alice",
        "created_at": "2026-11-22T10:00:00Z",
        "filter_policy": {"min_annotations": 3},
        "source_state": {"last_annotation_id": 4242},
    }
    fields.update(overrides)
    return ReleaseMeta(**fields)  # type: ignore[arg-type]


def jigsaw_rows(limit: int) -> list[dict[str, str]]:
    with (DATA / "jigsaw_toxic_sample.csv").open(encoding="utf-8", newline="") as handle:
        return [row for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]


def binary_records(
    ids: Iterator[int] | range, *, flip: frozenset[int] = frozenset()
) -> Iterator[BinaryRecord]:
    """Binary records over real Jigsaw text; ``flip`` lists item ids whose label is inverted."""
    rows = jigsaw_rows(200)
    for item_id in ids:
        row = rows[item_id % len(rows)]
        toxic = (row["toxic"] == "1") != (item_id in flip)
        label = "toxic" if toxic else "non-toxic"
        other = "non-toxic" if toxic else "toxic"
        votes = (
            Vote(ANNOTATORS[item_id % 7], label),
            Vote(ANNOTATORS[(item_id + 1) % 7], label),
            Vote(ANNOTATORS[(item_id + 2) % 7], other),
        )
        yield BinaryRecord(
            item_id=item_id,
            external_id=row["id"],
            text=row["comment_text"],
            label=label,
            soft_label={label: 2 / 3, other: 1 / 3},
            annotations=votes,
            quality=(item_id % 97) / 96,
        )


def multilabel_records(n: int) -> Iterator[MultiLabelRecord]:
    for item_id, row in enumerate(jigsaw_rows(n)):
        labels = tuple(name for name in MULTILABEL_CLASSES if row[name] == "1")
        votes = tuple(
            MultiLabelVote(ANNOTATORS[(item_id + k) % 7], labels if k else labels[:1]) for k in range(3)
        )
        soft = {name: sum(name in v.labels for v in votes) / 3 for name in MULTILABEL_CLASSES}
        yield MultiLabelRecord(
            item_id=item_id * 10,
            external_id=row["id"],
            text=row["comment_text"],
            labels=labels,
            soft_label=soft,
            annotations=votes,
            quality=None if item_id % 5 == 0 else 0.9,
        )


def preference_records(n: int) -> Iterator[PreferenceRecord]:
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as handle:
        for item_id, line in zip(range(n), handle, strict=False):
            pair = json.loads(line)
            label = ("A", "B", "tie")[item_id % 3]
            # Put the human-chosen response on the side the consensus says, so TRL's chosen
            # is always upstream's chosen.
            a, b = pair["chosen_response"], pair["rejected_response"]
            if label == "B":
                a, b = b, a
            soft = {"A": 0.0, "B": 0.0, "tie": 0.0}
            soft[label] = 1.0
            yield PreferenceRecord(
                item_id=item_id,
                external_id=pair["pair_id"],
                prompt=pair["prompt"],
                response_a=a,
                response_b=b,
                label=label,
                soft_label=soft,
                annotations=(Vote(ANNOTATORS[item_id % 7], label),),
                quality=0.75,
            )
