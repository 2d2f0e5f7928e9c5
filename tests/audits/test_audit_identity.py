"""Identity groups from the lexicon and from identity columns."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audits import (
    default_lexicon,
    groups_from_columns,
    groups_from_labels,
    groups_from_text,
    lexicon_from_mapping,
    load_lexicon_document,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_the_shipped_lexicon_is_versioned_with_provenance() -> None:
    doc = json.loads(resources.files("audits").joinpath("data", "identity_terms.json").read_text())
    assert doc["version"] == "1.0.0"
    assert "9c7d91aaa53406a362354661a93e07956d95e59a" in doc["provenance"]["upstream"]
    upstream = [t for t in doc["terms"] if t["source"] == "bias_madlibs"]
    assert len(upstream) == doc["provenance"]["upstream_terms"] == 50
    lex = default_lexicon()
    assert lex.version == "1.0.0" and len(lex.terms) == len(doc["terms"])


def test_every_madlibs_identity_term_is_found_whole_word() -> None:
    frame = pd.read_csv(DATA / "identity_bias_madlibs_sample.csv.gz", keep_default_na=False)
    lex = default_lexicon()
    assignment = groups_from_text(frame["text"].tolist(), lex)
    for term, found in zip(frame["identity_term"], assignment.terms, strict=True):
        if term:
            assert term in found, (term, found)
        else:
            assert found == ()
    assert set(frame["identity_term"]) - {""} <= set(lex.terms)


def test_matching_is_whole_word_case_insensitive_and_longest_first() -> None:
    texts = [
        "Gay people",
        "the gayest thing",
        "an African   American writer",
        "MUSLIMS and jews",
        "muslimness",
        "middle-aged",
        "a taoist.",
        "",
    ]
    a = groups_from_text(texts)
    assert a.groups[0] == {"homosexual_gay_or_lesbian"}
    assert a.groups[1] == frozenset()
    assert a.groups[2] == {"black"} and a.terms[2] == ("african american",)
    assert a.groups[3] == {"muslim", "jewish"}
    assert a.groups[4] == frozenset()
    assert a.groups[5] == frozenset()  # only "middle aged" is listed: no hyphen folding, no stemming
    assert a.groups[6] == {"taoist"}
    assert a.counts()["muslim"] == 1 and a.n_with_any() == 4
    assert a.mask("black").tolist() == [False, False, True, False, False, False, False, False]


def test_a_project_can_pass_its_own_terms() -> None:
    lex = lexicon_from_mapping({"Nurse": "occupation", "nurses": "occupation", "middle-aged": "older_age"})
    a = groups_from_text(["Ask the NURSES", "a middle-aged nurse", "gay"], lex)
    assert [set(g) for g in a.groups] == [{"occupation"}, {"occupation", "older_age"}, set()]
    assert lex.groups == ("occupation", "older_age")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "non-empty mapping"),
        ({"a|b": "g"}, "must be words"),
        ({"gay": ""}, "non-empty group"),
        ({"Gay": "x", "gay": "y"}, "mapped to both"),
    ],
)
def test_it_rejects_a_bad_lexicon(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lexicon_from_mapping(mapping)


def test_a_lexicon_document_without_terms_is_rejected() -> None:
    with pytest.raises(ValueError, match="'terms'"):
        load_lexicon_document({"name": "x", "version": "1"})


def test_identity_columns_take_fractions_with_a_threshold_and_nan_as_unannotated() -> None:
    a = groups_from_columns({"female": [0.0, 0.6, 0.5, np.nan], "muslim": [1, 0, 0.2, 1]}, threshold=0.5)
    assert [set(g) for g in a.groups] == [{"muslim"}, {"female"}, {"female"}, {"muslim"}]
    assert a.counts() == {"female": 2, "muslim": 2}
    strict = groups_from_columns({"female": [0.0, 0.6, 0.5]}, threshold=0.6)
    assert strict.counts() == {"female": 1}


def test_identity_columns_name_the_bad_row() -> None:
    with pytest.raises(ValueError, match=r"'black', row 2: 3.0 is outside \[0, 1\]"):
        groups_from_columns({"black": [0, 1, 3]})
    with pytest.raises(ValueError, match="has 2 rows; the others have 3"):
        groups_from_columns({"a": [0, 1, 0], "b": [0, 1]})
    with pytest.raises(ValueError, match="must hold numbers"):
        groups_from_columns({"a": ["x", "y"]})


def test_single_group_labels_such_as_hatecheck_target_ident() -> None:
    a = groups_from_labels(["women", None, "", "Muslims", float("nan")])
    assert a.group_names == ("Muslims", "women")
    assert a.counts() == {"Muslims": 1, "women": 1}
    assert "women" in a.masks() and a.masks(include_empty=True).keys() == {"Muslims", "women"}


def test_texts_may_be_any_iterable_but_not_one_string() -> None:
    assert groups_from_text(pd.Series(["gay", "x"])).counts()["homosexual_gay_or_lesbian"] == 1
    with pytest.raises(TypeError, match="not one string"):
        groups_from_text("gay")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string"):
        groups_from_text(["a", 3])  # type: ignore[list-item]
