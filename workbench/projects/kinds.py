"""The three project kinds: their labeling interface, their labels, and how a label travels to
and from a Label Studio annotation ``result``.

The XML in ``labeling_configs/`` is the source of truth for the label values: it is parsed with
a safe XML parser and checked against what each kind expects, so a config edit that renames a
choice fails loudly at start-up instead of silently producing unparseable annotations.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException, ElementTree

CONFIG_DIR = Path(__file__).resolve().parents[2] / "labeling_configs"

JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")

# A label as the workbench stores it: one choice ("toxic", "A") or, for multi-label, the sorted
# tuple of ticked categories (possibly empty).
Label = str | tuple[str, ...]


class Kind(enum.StrEnum):
    TOXICITY_BINARY = "toxicity_binary"
    TOXICITY_MULTILABEL = "toxicity_multilabel"
    PREFERENCE = "preference"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    config_name: str
    labels: tuple[str, ...]
    multiple: bool
    data_fields: tuple[str, ...]


@dataclass(frozen=True)
class LabelingInterface:
    spec: KindSpec
    xml: str
    sha256: str
    choices_name: str
    to_name: str

    def result_for(self, label: Label) -> list[dict[str, Any]]:
        """The Label Studio ``result`` an annotator produces when choosing ``label``."""
        choices = list(label) if self.spec.multiple else [label]
        if not choices:
            return []
        return [
            {
                "from_name": self.choices_name,
                "to_name": self.to_name,
                "type": "choices",
                "value": {"choices": choices},
            }
        ]

    def label_from(self, result: list[dict[str, Any]]) -> Label | None:
        """The label an annotation's ``result`` carries, or None when it carries none.

        Raises ConfigError for a choice this interface does not have (a config changed in
        Label Studio behind the workbench's back).
        """
        chosen: list[str] = []
        for region in result:
            if region.get("from_name") == self.choices_name:
                chosen.extend(region.get("value", {}).get("choices", []))
        unknown = sorted(set(chosen) - set(self.spec.labels))
        if unknown:
            raise ConfigError(f"Annotation has unknown choice(s) {unknown}; valid: {self.spec.labels}")
        if self.spec.multiple:
            return tuple(sorted(set(chosen), key=self.spec.labels.index))
        if len(chosen) != 1:
            return None
        return chosen[0]


SPECS = {
    Kind.TOXICITY_BINARY: KindSpec(
        Kind.TOXICITY_BINARY, "toxicity_binary.xml", ("toxic", "non-toxic"), False, ("text",)
    ),
    Kind.TOXICITY_MULTILABEL: KindSpec(
        Kind.TOXICITY_MULTILABEL, "toxicity_multilabel.xml", JIGSAW_LABELS, True, ("text",)
    ),
    Kind.PREFERENCE: KindSpec(
        Kind.PREFERENCE,
        "preference.xml",
        ("A", "B", "tie"),
        False,
        ("prompt", "response_a", "response_b"),
    ),
}

_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


@cache
def interface(kind: Kind | str) -> LabelingInterface:
    spec = SPECS[Kind(kind)]
    path = CONFIG_DIR / spec.config_name
    raw = path.read_bytes()
    return _validated(spec, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest(), path)


def _validated(spec: KindSpec, xml: str, sha256: str, path: Path) -> LabelingInterface:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ConfigError(f"{path}: not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise ConfigError(f"{path}: unsafe XML refused ({type(exc).__name__})") from exc
    if root.tag != "View":
        raise ConfigError(f"{path}: the root element must be <View>, not <{root.tag}>")
    objects = {el.get("name"): el.get("value", "") for el in root.iter("Text")}
    variables = sorted(m.group(1) for v in objects.values() if (m := _VARIABLE.match(v)))
    if variables != sorted(spec.data_fields):
        raise ConfigError(
            f"{path}: <Text> tags read {variables}; a {spec.kind} project needs {sorted(spec.data_fields)}"
        )
    choices = list(root.iter("Choices"))
    if len(choices) != 1:
        raise ConfigError(f"{path}: needs exactly one <Choices>, found {len(choices)}")
    (block,) = choices
    values = tuple(c.get("value") for c in block.iter("Choice"))
    if values != spec.labels:
        raise ConfigError(f"{path}: choices {values} differ from {spec.kind}'s {spec.labels}")
    multiple = block.get("choice", "single") == "multiple"
    if multiple != spec.multiple:
        raise ConfigError(f"{path}: choice='{block.get('choice')}' is wrong for {spec.kind}")
    to_name = block.get("toName", "")
    if to_name not in objects:
        raise ConfigError(f"{path}: <Choices toName='{to_name}'> names no <Text> tag")
    return LabelingInterface(
        spec=spec, xml=xml, sha256=sha256, choices_name=block.get("name", ""), to_name=to_name
    )
