from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from exports import ReleaseInputError, arrow_schema, build_release
from exports.conversation import prompt_messages
from exports.records import LabelSpace
from tests.exports.samples import DATA, SALT, binary_records, meta, multilabel_records, preference_records


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_trl_files_hold_chosen_and_rejected_and_leave_ties_out(tmp_path: Path) -> None:
    manifest = build_release(
        preference_records(300),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl", "trl"),
    )
    upstream = {}
    with gzip.open(DATA / "hh_rlhf_sample.jsonl.gz", "rt", encoding="utf-8") as handle:
        for _, line in zip(range(300), handle, strict=False):
            pair = json.loads(line)
            upstream[pair["prompt"], pair["chosen_response"]] = pair["rejected_response"]
    trl_rows = [
        row
        for split in ("train", "validation", "test")
        for row in _jsonl(tmp_path / "r" / "trl" / f"{split}.jsonl")
    ]
    assert trl_rows and all(list(row) == ["prompt", "chosen", "rejected"] for row in trl_rows)
    for row in trl_rows:
        assert upstream[row["prompt"], row["chosen"]] == row["rejected"]
    ties = sum(1 for i in range(300) if i % 3 == 2)
    trl = manifest.stats["trl"]
    assert trl["ties_excluded"] == ties == manifest.stats["by_label"]["tie"]
    assert trl["pairs"] == len(trl_rows) == 300 - ties
    assert sum(trl["pairs_by_split"].values()) == trl["pairs"]
    assert "ties left out: 100" in (tmp_path / "r" / "DATASHEET.md").read_text()


def test_the_conversational_trl_files_hold_the_same_pairs_as_message_lists(tmp_path: Path) -> None:
    manifest = build_release(
        preference_records(120),
        kind="preference",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(),
        formats=("jsonl", "trl", "trl_conversational"),
    )
    for split in ("train", "validation", "test"):
        plain = _jsonl(tmp_path / "r" / "trl" / f"{split}.jsonl")
        chat = _jsonl(tmp_path / "r" / "trl_conversational" / f"{split}.jsonl")
        assert len(plain) == len(chat)
        for flat, row in zip(plain, chat, strict=True):
            assert list(row) == ["prompt", "chosen", "rejected"]
            # TRL's conversational preference shape: lists of {"role", "content"} messages.
            assert row["chosen"] == [{"role": "assistant", "content": flat["chosen"]}]
            assert row["rejected"] == [{"role": "assistant", "content": flat["rejected"]}]
            prompt = row["prompt"]
            assert isinstance(prompt, list) and all(set(m) == {"role", "content"} for m in prompt)
            roles = [m["role"] for m in prompt]
            assert roles[0] == "user" and roles[-1] == "user"  # HH prompts end with the human's turn
            assert all(m["content"] and m["content"] in flat["prompt"] for m in prompt)
    chat_stats, plain_stats = manifest.stats["trl_conversational"], manifest.stats["trl"]
    assert chat_stats == plain_stats and chat_stats["ties_excluded"] == 40
    assert (
        "TRL conversational pairs written: 80; ties left out: 40."
        in (tmp_path / "r" / "DATASHEET.md").read_text()
    )


@pytest.mark.parametrize(
    ("prompt", "messages"),
    [
        (
            "\n\nHuman: hi there\n\nAssistant: hello!\n\nHuman: tell me a joke\n\nAssistant:",
            [
                {"role": "user", "content": "hi there"},
                {"role": "assistant", "content": "hello!"},
                {"role": "user", "content": "tell me a joke"},
            ],
        ),
        ("What is 2 + 2?", [{"role": "user", "content": "What is 2 + 2?"}]),
        (
            "Context first.\n\nHuman: and a question\n\nAssistant:",
            [{"role": "user", "content": "Context first."}, {"role": "user", "content": "and a question"}],
        ),
    ],
)
def test_a_prompt_becomes_chat_messages(prompt: str, messages: list[dict[str, str]]) -> None:
    assert prompt_messages(prompt) == messages


def test_trl_format_needs_a_preference_project(tmp_path: Path) -> None:
    with pytest.raises(ReleaseInputError, match="trl format needs a preference project"):
        build_release(
            binary_records(range(3)),
            kind="binary",
            out_dir=tmp_path / "r",
            salt=SALT,
            release_meta=meta(),
            formats=("jsonl", "trl"),
        )
    with pytest.raises(ReleaseInputError, match="trl_conversational format needs a preference project"):
        build_release(
            binary_records(range(3)),
            kind="binary",
            out_dir=tmp_path / "c",
            salt=SALT,
            release_meta=meta(),
            formats=("jsonl", "trl_conversational"),
        )


@pytest.mark.parametrize(
    "kind,records",
    [
        ("binary", lambda: binary_records(range(400))),
        ("multilabel", lambda: multilabel_records(400)),
        ("preference", lambda: preference_records(400)),
    ],
)
def test_parquet_loads_in_hf_datasets_and_pandas_with_the_jsonl_content(
    tmp_path: Path, kind: str, records: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    root = tmp_path / "r"
    build_release(
        records(),
        kind=kind,
        out_dir=root,
        salt=SALT,  # type: ignore[operator]
        release_meta=meta(),
        formats=("jsonl", "parquet"),
        chunk_rows=64,
    )
    splits = ("train", "validation", "test")
    loaded = datasets.load_dataset(
        "parquet",
        data_files={split: str(root / "parquet" / f"{split}.parquet") for split in splits},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    for split in splits:
        expected = _jsonl(root / "jsonl" / f"{split}.jsonl")
        assert loaded[split].to_list() == expected
        frame = pd.read_parquet(root / "parquet" / f"{split}.parquet")
        assert frame["item_id"].tolist() == [row["item_id"] for row in expected]
        assert frame["split"].eq(split).all()
        parquet = pq.ParquetFile(root / "parquet" / f"{split}.parquet")
        assert parquet.schema_arrow == arrow_schema(LabelSpace(kind))  # type: ignore[arg-type]
        assert all(parquet.metadata.row_group(i).num_rows <= 64 for i in range(parquet.num_row_groups))
    assert set(loaded["train"].features) == set(expected[0])
