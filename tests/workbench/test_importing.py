import gzip
import json

import pytest

from workbench.projects.importing import ImportRejected, content_hash, parse_items

LIMIT = 1000


def parse(content: bytes, kind: str = "toxicity_binary", source: str = "items.csv", **kwargs):  # type: ignore[no-untyped-def]
    return parse_items(kind=kind, source=source, content=content, max_field_chars=LIMIT, **kwargs)


def rejected(
    content: bytes, kind: str = "toxicity_binary", source: str = "items.csv", **kwargs
) -> ImportRejected:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRejected) as info:
        parse(content, kind, source, **kwargs)
    return info.value


def test_it_reads_a_csv_with_gold_ids_and_metadata() -> None:
    rows = parse(b'external_id,text,label,lang\na1,"hello,\nworld",toxic,en\na2,fine,non-toxic,fr\n')
    assert [r.row for r in rows] == [1, 2]
    assert rows[0].data == {"text": "hello,\nworld"}
    assert rows[0].external_id == "a1"
    assert rows[0].gold == "toxic"
    assert rows[1].metadata == {"lang": "fr"}


def test_it_maps_the_files_own_column_names() -> None:
    rows = parse(
        b"id,comment_text,toxic\nx,you are great,0\ny,awful,1\n",
        columns={"text": "comment_text", "external_id": "id"},
    )
    assert [(r.external_id, r.data["text"], r.gold) for r in rows] == [
        ("x", "you are great", "non-toxic"),
        ("y", "awful", "toxic"),
    ]


def test_it_reads_gzipped_jsonl_preference_rows() -> None:
    lines = [{"prompt": "p", "response_a": "a", "response_b": "b", "label": "tie", "source": "hh"}]
    content = gzip.compress("\n".join(json.dumps(x) for x in lines).encode())
    (row,) = parse(content, kind="preference", source="pairs.jsonl.gz")
    assert row.data == {"prompt": "p", "response_a": "a", "response_b": "b"}
    assert row.gold == "tie"
    assert row.metadata == {"source": "hh"}


def test_multilabel_gold_comes_from_the_six_jigsaw_columns() -> None:
    header = b"text,toxic,severe_toxic,obscene,threat,insult,identity_hate\n"
    (row,) = parse(header + b"bad words,1,0,1,0,0,0\n", kind="toxicity_multilabel")
    assert row.gold == ("toxic", "obscene")


def test_same_content_hashes_alike_whatever_the_surrounding_whitespace() -> None:
    assert content_hash({"text": " hi "}) == content_hash({"text": "hi"})
    assert content_hash({"text": "hi"}) != content_hash({"text": "hi!"})


@pytest.mark.parametrize(
    ("content", "row", "field", "message"),
    [
        (b"comment\nhello\n", 1, "text", "missing column"),
        (b"text,label\n  ,toxic\n", 1, "text", "empty text"),
        (b"text,label\nfine,toxic\nhello,spam\n", 2, "label", "unknown label 'spam'"),
        (b"text,toxic\nhello,maybe\n", 1, "toxic", "expected 0 or 1"),
        (b"text\n" + b"x" * (LIMIT + 1) + b"\n", 1, "text", "longer than 1000"),
        (b"text,note\nok," + b"y" * (LIMIT + 1) + b"\n", 1, "note", "longer than 1000"),
        (b"text,external_id\na,1\nb,1\n", 2, "external_id", "repeats row 1"),
        (b"text,label\na,toxic,extra\n", 1, "(row)", "has 3 fields"),
        (b'text\n"never closed\n', 1, "(row)", "broken CSV"),
        (b"text\nfine\n\xff\xfe broken\n", 0, "(file)", "line 3: byte 0xff"),
        (b"text,text\na,b\n", 0, "text", "more than once"),
        (b"text\n", 0, "(file)", "no rows"),
        (b"", 0, "(file)", "no rows"),
    ],
)
def test_bad_csv_input_names_row_and_field(content: bytes, row: int, field: str, message: str) -> None:
    error = rejected(content)
    assert (error.errors[0].row, error.errors[0].field) == (row, field)
    assert message in error.errors[0].message
    assert "nothing was imported" in str(error)
    assert str(error).startswith("items.csv:")


@pytest.mark.parametrize(
    ("line", "row", "field", "message"),
    [
        ('{"prompt": "p", "response_a": "a"}', 2, "response_b", "missing"),
        ('{"prompt": "p", "response_a": 5, "response_b": "b"}', 2, "response_a", "must be text, got int"),
        ('{"prompt": "p", "response_a": "a", "response_b": "b", "label": "C"}', 2, "label", "unknown label"),
        ('{"prompt": "p", "response_a"', 2, "(line)", "not valid JSON"),
        ('["a list"]', 2, "(line)", "expected a JSON object"),
    ],
)
def test_bad_jsonl_input_names_line_and_field(line: str, row: int, field: str, message: str) -> None:
    good = '{"prompt": "p0", "response_a": "a", "response_b": "b"}'
    error = rejected(f"{good}\n{line}\n".encode(), kind="preference", source="pairs.jsonl")
    assert (error.errors[0].row, error.errors[0].field) == (row, field)
    assert message in error.errors[0].message


def test_it_reports_every_bad_row_not_only_the_first() -> None:
    error = rejected(b"text,label\n,toxic\nok,bad\n,\n")
    assert [(e.row, e.field) for e in error.errors] == [(1, "text"), (2, "label"), (3, "text")]


def test_a_broken_gzip_stream_is_a_file_error() -> None:
    error = rejected(b"\x1f\x8b\x08\x00garbage", source="items.csv.gz")
    assert "broken gzip" in error.errors[0].message
