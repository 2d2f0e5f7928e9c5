"""``manage.py audit_drift`` between two files (no database), through the command's own class.

The app is not in INSTALLED_APPS yet (settings belong to another work package), so the tests
call the command instance directly; ``call_command`` accepts one.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from workbench.audits.management.commands.audit_drift import Command

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(Command(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def jigsaw() -> pd.DataFrame:
    return pd.read_csv(DATA / "jigsaw_toxic_binary_sample.csv").sample(n=1200, random_state=0)


def test_two_halves_of_one_file_show_no_shift(tmp_path: Path, jigsaw: pd.DataFrame) -> None:
    jigsaw.iloc[:600].to_csv(tmp_path / "a.csv", index=False)
    jigsaw.iloc[600:].to_csv(tmp_path / "b.csv", index=False)
    text = run(
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.csv"),
        "--text-column",
        "comment_text",
        "--label-column",
        "toxic",
    )
    assert "verdict: no shift" in text
    assert "600 items" in text and "thresholds: alpha 0.01" in text


def test_jigsaw_against_tweets_in_gzipped_jsonl_shifts(tmp_path: Path, jigsaw: pd.DataFrame) -> None:
    jigsaw.iloc[:600].to_csv(tmp_path / "a.csv", index=False)
    tweets = pd.read_csv(DATA / "davidson_hate_offensive_sample.csv.gz").sample(n=600, random_state=0)
    lines = [
        json.dumps({"comment_text": t, "toxic": int(c != 2)})
        for t, c in zip(tweets["tweet"], tweets["class"], strict=True)
    ]
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    text = run(
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.jsonl.gz"),
        "--text-column",
        "comment_text",
        "--label-column",
        "toxic",
    )
    assert "verdict: inputs and labels shifted" in text
    assert "a classifier tells the sides apart" in text
    body = json.loads(
        run(str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl.gz"), "--text-column", "comment_text", "--json")
    )
    assert body["verdict"] == "inputs shifted" and body["classifier"]["auc"] > 0.9 and body["labels"] is None


def test_bad_files_are_named_with_row_and_column(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    pd.DataFrame({"text": [f"comment number {i}" for i in range(10)]}).to_csv(good, index=False)
    (tmp_path / "nocol.csv").write_text("body\nhello\n")
    with pytest.raises(CommandError, match=r"nocol.csv, row 1: no column 'text' \(columns: body\)"):
        run(str(good), str(tmp_path / "nocol.csv"))
    (tmp_path / "empty_text.csv").write_text('text\nhello\n"  "\n')
    with pytest.raises(CommandError, match=r"empty_text.csv, row 2, column 'text': the text is empty"):
        run(str(good), str(tmp_path / "empty_text.csv"))
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{oops\n')
    with pytest.raises(CommandError, match=r"bad.jsonl, line 2: not valid JSON"):
        run(str(good), str(tmp_path / "bad.jsonl"))
    with pytest.raises(CommandError, match="missing.csv: cannot read the file"):
        run(str(good), str(tmp_path / "missing.csv"))
    (tmp_path / "few.csv").write_text("text\na\nb\n")
    with pytest.raises(CommandError, match="few.csv: 2 rows; the drift check needs at least 5"):
        run(str(good), str(tmp_path / "few.csv"))
