"""Identity groups per item: from a term lexicon matched in the text, or from identity columns.

A :class:`Lexicon` maps lower-cased terms (single words or phrases) to group names. The shipped
default (``audits/data/identity_terms.json``, versioned, with its provenance) is built from the
public bias-madlibs identity term list; a project passes its own mapping with
:func:`lexicon_from_mapping`. Matching is whole word and case-insensitive, longest term first
("african american" wins over "american" at the same place), and there is no stemming: plurals
are separate listed terms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from audits._validation import BoolArray, as_group_masks

_TERM_RE = re.compile(r"^[^\W_](?:[\w'\- ]*[^\W_])?$")


@dataclass(frozen=True)
class Lexicon:
    """Term -> group mapping with its name and version (``terms`` keys are lower-case)."""

    name: str
    version: str
    terms: Mapping[str, str]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.terms.values())))

    def pattern(self) -> re.Pattern[str]:
        """One regex over all terms, longest first, whitespace-insensitive inside phrases."""
        ordered = sorted(self.terms, key=lambda t: (-len(t), t))
        alternatives = [r"\s+".join(re.escape(word) for word in term.split()) for term in ordered]
        return re.compile(r"(?<![\w])(" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


def _normalise_term(term: Any, where: str) -> str:
    if not isinstance(term, str):
        raise TypeError(f"{where}: a term must be a string; got {type(term).__name__}")
    clean = " ".join(term.lower().split())
    if not _TERM_RE.match(clean):
        raise ValueError(
            f"{where}: term {term!r} must be words (letters, digits, apostrophes, hyphens, spaces) "
            "starting and ending with a letter or digit"
        )
    return clean


def lexicon_from_mapping(
    mapping: Mapping[str, str], *, name: str = "project", version: str = "custom"
) -> Lexicon:
    """A lexicon from a project's own ``{term: group}`` mapping (terms are lower-cased).

    Raises ``ValueError`` on an empty mapping, a malformed term or group, or two spellings of
    one term mapped to different groups.
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError("a lexicon needs a non-empty mapping of term -> group")
    terms: dict[str, str] = {}
    for raw, group in mapping.items():
        term = _normalise_term(raw, f"lexicon {name!r}")
        if not isinstance(group, str) or not group.strip():
            raise ValueError(f"lexicon {name!r}: term {raw!r} needs a non-empty group name; got {group!r}")
        if term in terms and terms[term] != group:
            raise ValueError(
                f"lexicon {name!r}: term {term!r} is mapped to both {terms[term]!r} and {group!r}"
            )
        terms[term] = group.strip()
    return Lexicon(name=name, version=version, terms=terms)


def load_lexicon_document(document: Mapping[str, Any]) -> Lexicon:
    """A lexicon from the JSON document format of ``audits/data/identity_terms.json``."""
    try:
        name, version, entries = document["name"], document["version"], document["terms"]
    except KeyError as exc:
        raise ValueError(
            f"lexicon document lacks the field {exc.args[0]!r} (needs name, version, terms)"
        ) from None
    mapping: dict[str, str] = {}
    for row, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or "term" not in entry or "group" not in entry:
            raise ValueError(
                f"lexicon document {name!r}: terms[{row}] must be an object with 'term' and 'group'"
            )
        mapping[entry["term"]] = entry["group"]
    return lexicon_from_mapping(mapping, name=str(name), version=str(version))


def default_lexicon() -> Lexicon:
    """The shipped lexicon (bias-madlibs terms plus listed plurals; see the file's provenance)."""
    text = resources.files("audits").joinpath("data", "identity_terms.json").read_text(encoding="utf-8")
    return load_lexicon_document(json.loads(text))


@dataclass(frozen=True)
class GroupAssignment:
    """Identity groups of each item.

    ``groups[i]``: the groups item ``i`` mentions (empty when none); ``group_names``: every
    group that could be assigned (from the lexicon or the columns), sorted; ``terms[i]``: the
    matched terms (lexicon only; empty tuples for columns).
    """

    groups: tuple[frozenset[str], ...]
    group_names: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]

    @property
    def n_items(self) -> int:
        return len(self.groups)

    def mask(self, group: str) -> BoolArray:
        """``(n_items,)`` bool: which items mention ``group``."""
        if group not in self.group_names:
            raise ValueError(f"unknown group {group!r}; the groups are {list(self.group_names)}")
        return np.fromiter((group in g for g in self.groups), dtype=bool, count=self.n_items)

    def masks(self, *, include_empty: bool = False) -> dict[str, BoolArray]:
        """``{group: (n_items,) bool mask}``; groups nobody mentions are left out unless asked."""
        out = {name: self.mask(name) for name in self.group_names}
        return out if include_empty else {name: m for name, m in out.items() if m.any()}

    def counts(self) -> dict[str, int]:
        """Items mentioning each group (every group listed, zero included)."""
        counts = dict.fromkeys(self.group_names, 0)
        for item_groups in self.groups:
            for group in item_groups:
                counts[group] += 1
        return counts

    def n_with_any(self) -> int:
        return sum(1 for g in self.groups if g)


def groups_from_text(texts: Iterable[str], lexicon: Lexicon | None = None) -> GroupAssignment:
    """Match the lexicon (default: :func:`default_lexicon`) in each text, whole word, any case."""
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be an iterable of strings (not one string); got {type(texts).__name__}")
    lex = lexicon if lexicon is not None else default_lexicon()
    pattern = lex.pattern()
    groups: list[frozenset[str]] = []
    terms: list[tuple[str, ...]] = []
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{row}] must be a string; got {type(text).__name__}")
        found = tuple(" ".join(m.group(1).lower().split()) for m in pattern.finditer(text))
        terms.append(found)
        groups.append(frozenset(lex.terms[t] for t in found))
    return GroupAssignment(groups=tuple(groups), group_names=lex.groups, terms=tuple(terms))


def groups_from_columns(columns: Mapping[str, npt.ArrayLike], *, threshold: float = 0.5) -> GroupAssignment:
    """Groups from identity columns (Civil Comments style): ``{group: (n_items,) values}``.

    Values are 0/1 or fractions of raters in [0, 1]; an item is in a group when its value is at
    least ``threshold``. NaN means "not annotated" and puts the item in no group for that column.
    Raises ``ValueError`` naming the column and row of a value outside [0, 1] or non-numeric.
    """
    if not isinstance(columns, Mapping) or not columns:
        raise ValueError("columns must be a non-empty mapping of group name -> values")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold}")
    n_items = -1
    member: dict[str, BoolArray] = {}
    for name in sorted(columns):
        try:
            values = np.asarray(columns[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"identity column {name!r} must hold numbers (0/1 or fractions)") from None
        if values.ndim != 1:
            raise ValueError(f"identity column {name!r} must be 1-D; got shape {values.shape}")
        if n_items < 0:
            n_items = values.shape[0]
        elif values.shape[0] != n_items:
            raise ValueError(
                f"identity column {name!r} has {values.shape[0]} rows; the others have {n_items}"
            )
        bad = ~np.isnan(values) & ((values < 0) | (values > 1))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"identity column {name!r}, row {row}: {values[row]} is outside [0, 1]")
        member[name] = np.nan_to_num(values, nan=0.0) >= threshold
    names = tuple(sorted(member))
    groups = tuple(frozenset(g for g in names if member[g][i]) for i in range(n_items))
    return GroupAssignment(groups=groups, group_names=names, terms=tuple(() for _ in range(n_items)))


def groups_from_labels(labels: Iterable[str | float | None]) -> GroupAssignment:
    """One group (or none: empty string / None / NaN) per item, e.g. HateCheck's ``target_ident``."""
    groups: list[frozenset[str]] = []
    for value in labels:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            groups.append(frozenset())
        elif isinstance(value, str):
            groups.append(frozenset([value]))
        else:
            raise TypeError(f"group labels must be strings or None; got {type(value).__name__}")
    names = tuple(sorted(set().union(*groups))) if groups else ()
    return GroupAssignment(groups=tuple(groups), group_names=names, terms=tuple(() for _ in groups))


def masks_of(groups: GroupAssignment | Mapping[str, npt.ArrayLike], n_items: int) -> dict[str, BoolArray]:
    """Validated ``{group: mask}`` from an assignment or a mapping of masks."""
    if isinstance(groups, GroupAssignment):
        if groups.n_items != n_items:
            raise ValueError(f"the group assignment covers {groups.n_items} items but there are {n_items}")
        return groups.masks()
    return as_group_masks(groups, n_items=n_items)
