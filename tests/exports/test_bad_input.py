from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from exports import (
    ReleaseInputError,
    ReleaseMeta,
    Vote,
    build_release,
)
from tests.exports.samples import ANNOTATORS, SALT, binary_records, meta, multilabel_records

GOOD = next(binary_records(range(7, 8)))


def _build(tmp_path: Path, records: list[Any], kind: str = "binary", **kwargs: Any) -> None:
    build_release(records, kind=kind, out_dir=tmp_path / "r", salt=SALT, release_meta=meta(), **kwargs)


@pytest.mark.parametrize(
    "change,field,problem",
    [
        ({"label": "spam"}, "label", "'spam' is not one of ['toxic', 'non-toxic']"),
        ({"label": ["toxic"]}, "label", "['toxic'] is not one of"),
        ({"text": None}, "text", "must be a str, got NoneType"),
        ({"text": "bad \udcff"}, "text", "is not valid UTF-8"),
        ({"external_id": 12}, "external_id", "must be a str, got int"),
        ({"soft_label": {"toxic": 1.0}}, "soft_label", "must map exactly the classes"),
        ({"soft_label": {"toxic": 0.7, "non-toxic": 0.7}}, "soft_label", "sum to 1.4"),
        ({"soft_label": {"toxic": float("nan"), "non-toxic": 0.5}}, "soft_label", "is not in [0, 1]"),
        ({"quality": float("nan")}, "quality", "must be None or a number in [0, 1]"),
        ({"quality": 1.5}, "quality", "must be None or a number in [0, 1]"),
        (
            {"annotations": (Vote("alice@example.org", "toxic"),)},
            "annotations[0].annotator",
            "is not a pseudonym; pass exports.pseudonymize",
        ),
        (
            {"annotations": (Vote(ANNOTATORS[0], "toxic"), Vote(ANNOTATORS[0], "non-toxic"))},
            "annotations",
            "appears twice",
        ),
        ({"annotations": (Vote(ANNOTATORS[0], "maybe"),)}, "annotations[0].label", "'maybe' is not one of"),
        (
            {"annotations": (Vote(ANNOTATORS[0], ["toxic"]),)},
            "annotations[0].label",
            "['toxic'] is not one of",
        ),
        ({"item_id": -1}, "item_id", "must be a non-negative 64-bit int"),
        ({"item_id": "7"}, "item_id", "must be a non-negative 64-bit int"),
    ],
)
def test_it_names_the_record_and_field_of_bad_input(
    tmp_path: Path, change: dict[str, Any], field: str, problem: str
) -> None:
    bad = replace(GOOD, **change)
    records = [next(binary_records(range(3, 4))), bad]
    with pytest.raises(ReleaseInputError) as err:
        _build(tmp_path, records)
    message = str(err.value)
    assert message.startswith(f"record #1 (item_id={bad.item_id!r}): {field} "), message
    assert problem in message
    assert err.value.extra == {"index": 1, "item_id": bad.item_id, "field": field}
    assert not (tmp_path / "r").exists() and not list(tmp_path.glob(".r.building-*"))


def test_it_requires_records_sorted_by_item_id(tmp_path: Path) -> None:
    records = list(binary_records([5, 9, 8]))
    with pytest.raises(
        ReleaseInputError, match=r"record #2 \(item_id=8\): records must come sorted .* item_id=9"
    ):
        _build(tmp_path, records)
    with pytest.raises(ReleaseInputError, match=r"record #1 \(item_id=5\).*follows item_id=5"):
        _build(tmp_path, list(binary_records([5, 5])))


def test_it_rejects_a_record_of_another_kind(tmp_path: Path) -> None:
    with pytest.raises(
        ReleaseInputError,
        match=r"record #0 \(item_id=0\): record must be a PreferenceRecord "
        r"for a 'preference' project, got MultiLabelRecord",
    ):
        _build(tmp_path, list(multilabel_records(1)), kind="preference")


def test_multilabel_rejects_repeated_or_unknown_classes(tmp_path: Path) -> None:
    record = next(multilabel_records(1))
    vote = record.annotations[0]
    with pytest.raises(ReleaseInputError, match=r"annotations\[0\]\.labels must be a tuple, got \['toxic'\]"):
        _build(tmp_path, [replace(record, annotations=(replace(vote, labels=["toxic"]),))], kind="multilabel")
    with pytest.raises(ReleaseInputError, match=r"annotations\[0\]\.labels 'spam' is not one of"):
        _build(tmp_path, [replace(record, annotations=(replace(vote, labels=("spam",)),))], kind="multilabel")
    with pytest.raises(ReleaseInputError, match="labels repeats a class"):
        _build(tmp_path, [replace(record, labels=("toxic", "toxic"))], kind="multilabel")
    with pytest.raises(ReleaseInputError, match="labels 'spam' is not one of"):
        _build(tmp_path, [replace(record, labels=("spam",))], kind="multilabel")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"kind": "ranking"}, "unknown project kind 'ranking'; valid kinds: binary, multilabel, preference"),
        ({"formats": ("xlsx",)}, r"unknown formats \['xlsx'\]; valid formats: jsonl, csv, parquet, trl"),
        ({"formats": "csv"}, "formats must be a non-empty list"),
        ({"salt": "tiny"}, "salt must be at least 16 bytes"),
        ({"classes": ("toxic",)}, "a binary project needs exactly 2 classes"),
        ({"classes": ("toxic", "has space")}, "class name 'has space' must match"),
        ({"chunk_rows": 0}, "chunk_rows must be a positive int"),
    ],
)
def test_it_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "kind": "binary",
        "out_dir": tmp_path / "r",
        "salt": SALT,
        "release_meta": meta(),
    }
    arguments.update(kwargs)
    with pytest.raises(ReleaseInputError, match=message):
        build_release([GOOD], **arguments)


def test_preference_classes_are_fixed(tmp_path: Path) -> None:
    with pytest.raises(ReleaseInputError, match="preference classes are fixed"):
        build_release(
            [],
            kind="preference",
            out_dir=tmp_path / "r",
            salt=SALT,
            release_meta=meta(),
            classes=("left", "right", "tie"),
        )


def test_it_never_overwrites_a_release(tmp_path: Path) -> None:
    _build(tmp_path, [GOOD])
    with pytest.raises(ReleaseInputError, match="already exists; a release folder is written once"):
        _build(tmp_path, [GOOD])


def test_release_meta_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ReleaseInputError, match="release_meta.version must be a non-empty string"):
        ReleaseMeta(version=" ", label_config_hash="h", created_by="me")
    with pytest.raises(ReleaseInputError, match="release_meta.filter_policy must be JSON-serializable"):
        ReleaseMeta(version="1", label_config_hash="h", created_by="me", filter_policy={"x": float("nan")})
    with pytest.raises(ReleaseInputError, match="release_meta.source_state must be JSON-serializable"):
        ReleaseMeta(version="1", label_config_hash="h", created_by="me", source_state={"x": object()})


@pytest.mark.parametrize(
    "fraction,problem",
    [
        (float("nan"), "['obscene'] = nan is not in [0, 1]"),
        (1.5, "['obscene'] = 1.5 is not in [0, 1]"),
        (-0.25, "['obscene'] = -0.25 is not in [0, 1]"),
        (True, "['obscene'] = True is not in [0, 1]"),
        ("0.5", "['obscene'] = '0.5' is not in [0, 1]"),
    ],
)
def test_a_multilabel_soft_label_in_class_order_is_still_checked_value_by_value(
    tmp_path: Path, fraction: object, problem: str
) -> None:
    # Soft labels whose keys already come in class order take the row maker's fast path.
    good = list(multilabel_records(2))
    soft = {**good[1].soft_label, "obscene": fraction}
    bad = replace(good[1], soft_label=soft)
    with pytest.raises(ReleaseInputError) as err:
        _build(tmp_path, [good[0], bad], kind="multilabel")
    assert str(err.value).startswith(f"record #1 (item_id={bad.item_id}): soft_label ")
    assert problem in str(err.value)


def test_integer_soft_label_fractions_are_written_as_floats(tmp_path: Path) -> None:
    good = next(multilabel_records(1))
    record = replace(good, soft_label={name: 1 if name == "toxic" else 0 for name in good.soft_label})
    _build(tmp_path, [record], kind="multilabel", formats=("jsonl",))
    text = "".join(path.read_text() for path in (tmp_path / "r" / "jsonl").glob("*.jsonl"))
    assert '"soft_label":{"toxic":1.0,"severe_toxic":0.0,' in text
