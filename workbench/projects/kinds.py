"""The three project kinds, each described once (:class:`KindSpec`): its labeling interface, its
labels and their order, the codes and targets the libraries work on, the texts to embed and how
they become a feature row, the export kind, and the tie rules of its votes. Every app reads the
kind from here; none keeps its own mapping.

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
from typing import Any, Literal

import numpy as np
from defusedxml import DefusedXmlException, ElementTree
from numpy.typing import NDArray

from workbench.projects import sides as sides_

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


# A library target: binary 1.0 = toxic / 0.0; preference 1.0 = A preferred, 0.0 = B, 0.5 = tie;
# multi-label a 0/1 row over the labels.
Target = float | tuple[int, ...]
ExportKind = Literal["binary", "multilabel", "preference"]


@dataclass(frozen=True)
class KindSpec:
    """Everything the apps need to know about a kind.

    ``labels``: the Label Studio choices in the config's order, which is also the class order of
    releases (soft-label columns). ``codes``: the class order of ``label_quality``'s code matrices
    (binary 0 = non-toxic, 1 = toxic, as the libraries expect; preference the library's
    ``PREFERENCE_CATEGORIES``). ``targets``: a label's ``active_learning`` training target (the
    preference target is P(A preferred)). ``embed_fields``: the item's texts in the order the
    libraries expect them (a pair: response A, response B, prompt). ``consensus_ties`` is the
    tie rule of the consensus every reader shows (dashboard, label issues, reviews, releases),
    ``training_ties`` the one of training targets (see :mod:`workbench.votes`).
    """

    kind: Kind
    config_name: str
    labels: tuple[str, ...]
    multiple: bool
    data_fields: tuple[str, ...]
    task: Literal["binary", "multilabel", "preference"]  # the active_learning task
    export_kind: ExportKind
    codes: tuple[str, ...]
    targets: tuple[tuple[str, float], ...]
    embed_fields: tuple[str, ...]
    consensus_ties: str
    training_ties: str
    tie_rules: tuple[str, ...]  # the rules that make sense for this kind
    # A pair shown in a random order (:mod:`workbench.projects.sides`): Label Studio's config
    # reads ``shown_fields`` and offers ``shown_choices``, answers about the shown sides that
    # ingest maps back to ``labels``. Empty for kinds shown as stored.
    shown_fields: tuple[str, ...] = ()
    shown_choices: tuple[str, ...] = ()
    # The strategy a round uses when its model does not beat its baseline (a project's
    # ``RoundConfig.fallback_strategy`` overrides it); it must need no model.
    model_free_strategy: str = "random"
    # A second config a project of this kind may choose at creation: a graded scale (which side,
    # and by how much) whose answers carry a strength beside the label. Empty: no graded config.
    graded_config_name: str = ""
    graded_choices: tuple[str, ...] = ()

    @property
    def config_names(self) -> tuple[str, ...]:
        """The labeling configs a project of this kind may use; the first is the default."""
        return (self.config_name, self.graded_config_name) if self.graded_config_name else (self.config_name,)

    @property
    def sided(self) -> bool:
        return bool(self.shown_choices)

    @property
    def ls_fields(self) -> tuple[str, ...]:
        """The task data fields the labeling config reads."""
        return self.shown_fields or self.data_fields

    @property
    def ls_choices(self) -> tuple[str, ...]:
        """The choices Label Studio offers, in the config's order."""
        return self.shown_choices or self.labels

    @property
    def pair(self) -> bool:
        return len(self.embed_fields) > 1

    def code(self, label: str) -> int:
        """A single-choice label's ``label_quality`` / ActiveLab class code."""
        return self.codes.index(label)

    def target(self, label: Label) -> Target:
        """A (consensus) label as the ``active_learning`` training target."""
        if self.multiple:
            return tuple(int(name in label) for name in self.labels)
        return dict(self.targets)[str(label)]

    def normalized(self, label: Any) -> Label | None:
        """A stored label as the workbench compares it (multi-label: a tuple in label order);
        None for a value this kind cannot hold (no label, a list for a single-choice kind)."""
        if label is None:
            return None
        if self.multiple:
            if not isinstance(label, list | tuple):
                return None
            return tuple(name for name in self.labels if name in label)
        return label if isinstance(label, str) and label in self.labels else None

    def texts(self, data: dict[str, Any]) -> list[str]:
        """The texts of one item to embed, in :attr:`embed_fields` order."""
        return [data[name] for name in self.embed_fields]

    def feature_rows(self, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        """``(n, len(embed_fields), d)`` text embeddings -> ``(n, d')`` rows for a classifier
        that takes one flat row per item (``label_quality``'s out-of-fold probabilities). A pair
        becomes ``[a - b, prompt * (a - b)]`` so a linear model can tell A from B."""
        if vectors.ndim != 3 or vectors.shape[1] != len(self.embed_fields):
            raise ValueError(
                f"{self.kind} needs embeddings of shape (n, {len(self.embed_fields)}, d), got {vectors.shape}"
            )
        if self.pair:
            from active_learning.classifiers import pair_features  # keeps this module light to import

            return np.asarray(pair_features(vectors, use_prompt=True), dtype=np.float32)
        return np.asarray(vectors[:, 0, :], dtype=np.float32)


@dataclass(frozen=True)
class ParsedAnswer:
    """What one annotation's ``result`` says: the stored label (direction for a preference:
    ``A`` / ``B`` / ``tie``, None when it carries none) and, from a graded config, its strength
    (0 for a tie, 1 "slightly better" .. 3 "much better"; None from an ungraded config)."""

    label: Label | None
    strength: int | None = None


@dataclass(frozen=True)
class LabelingInterface:
    spec: KindSpec
    xml: str
    sha256: str
    choices_name: str
    to_name: str
    config_name: str = ""
    graded: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        """The choices this config offers in Label Studio, in its order."""
        return self.spec.graded_choices if self.graded else self.spec.ls_choices

    def result_for(
        self, label: Label, *, sides: str | None = None, strength: int | None = None
    ) -> list[dict[str, Any]]:
        """The Label Studio ``result`` an annotator produces when giving the stored ``label``
        (with ``strength`` on a graded config); a sided kind needs the order the item was shown in."""
        if self.graded and strength is None:
            raise ConfigError(f"an answer on the graded {self.config_name} needs a strength")
        if not self.graded and strength is not None:
            raise ConfigError(f"{self.config_name or self.spec.config_name} is not graded; no strength")
        if self.spec.sided:
            if sides is None:
                raise ConfigError(f"a {self.spec.kind} answer needs the sides the item was shown in")
            if strength is not None:
                try:
                    return self.result_for_choice(sides_.shown_grade(str(label), strength, sides))
                except sides_.SidesError as exc:
                    raise ConfigError(str(exc)) from exc
            return self.result_for_choice(sides_.shown_choice(str(label), sides))
        choices = list(label) if self.spec.multiple else [str(label)]
        if not choices:
            return []
        return self._result(choices)

    def result_for_choice(self, choice: str) -> list[dict[str, Any]]:
        """The ``result`` of clicking one of the config's choices (for a sided kind: ``1``,
        ``2`` or ``tie``, or a graded one, about the shown sides)."""
        if choice not in self.choices:
            raise ConfigError(f"unknown choice {choice!r}; valid: {self.choices}")
        return self._result([choice])

    def _result(self, choices: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "from_name": self.choices_name,
                "to_name": self.to_name,
                "type": "choices",
                "value": {"choices": choices},
            }
        ]

    def label_from(self, result: list[dict[str, Any]], *, sides: str | None = None) -> Label | None:
        """The stored label an annotation's ``result`` carries, or None when it carries none
        (:meth:`answer_from` without the strength)."""
        return self.answer_from(result, sides=sides).label

    def answer_from(self, result: list[dict[str, Any]], *, sides: str | None = None) -> ParsedAnswer:
        """The label (and, on a graded config, the strength) an annotation's ``result`` carries.
        The one place an answer becomes a label: for a sided kind the choice is about the shown
        sides, and ``sides`` (the item's recorded order) maps it back to ``A`` / ``B`` / ``tie``;
        a graded choice ("Response 2 much better") maps the same way and keeps its strength.

        Raises ConfigError for a choice this interface does not have (a config changed in
        Label Studio behind the workbench's back), or a sided answer without a recorded order.
        """
        chosen: list[str] = []
        for region in result:
            if region.get("from_name") == self.choices_name:
                chosen.extend(region.get("value", {}).get("choices", []))
        valid = self.choices
        unknown = sorted(set(chosen) - set(valid))
        if unknown:
            raise ConfigError(f"Annotation has unknown choice(s) {unknown}; valid: {valid}")
        if self.spec.multiple:
            return ParsedAnswer(tuple(sorted(set(chosen), key=self.spec.labels.index)))
        if len(chosen) != 1:
            return ParsedAnswer(None)
        if not self.spec.sided:
            return ParsedAnswer(chosen[0])
        if sides not in sides_.SIDES:
            raise ConfigError(
                f"a {self.spec.kind} answer ({chosen[0]!r}) arrived for an item with no recorded sides "
                f"({sides!r}); it cannot be mapped to response A or B"
            )
        if self.graded:
            label, strength = sides_.stored_grade(chosen[0], sides)
            return ParsedAnswer(label, strength)
        return ParsedAnswer(sides_.stored_label(chosen[0], sides))


_TOXICITY_TIES = ("toward_toxic", "abstain")
SPECS = {
    Kind.TOXICITY_BINARY: KindSpec(
        kind=Kind.TOXICITY_BINARY,
        config_name="toxicity_binary.xml",
        labels=("toxic", "non-toxic"),
        multiple=False,
        data_fields=("text",),
        task="binary",
        export_kind="binary",
        codes=("non-toxic", "toxic"),
        targets=(("toxic", 1.0), ("non-toxic", 0.0)),
        embed_fields=("text",),
        consensus_ties="toward_toxic",
        training_ties="abstain",
        tie_rules=_TOXICITY_TIES,
    ),
    Kind.TOXICITY_MULTILABEL: KindSpec(
        kind=Kind.TOXICITY_MULTILABEL,
        config_name="toxicity_multilabel.xml",
        labels=JIGSAW_LABELS,
        multiple=True,
        data_fields=("text",),
        task="multilabel",
        export_kind="multilabel",
        codes=JIGSAW_LABELS,
        targets=(),
        embed_fields=("text",),
        consensus_ties="toward_toxic",
        training_ties="abstain",
        tie_rules=_TOXICITY_TIES,
    ),
    Kind.PREFERENCE: KindSpec(
        kind=Kind.PREFERENCE,
        config_name="preference.xml",
        labels=("A", "B", "tie"),
        multiple=False,
        data_fields=("prompt", "response_a", "response_b"),
        task="preference",
        export_kind="preference",
        codes=("A", "B", "tie"),  # label_quality.PREFERENCE_CATEGORIES (tests/workbench/test_kinds.py)
        targets=(("A", 1.0), ("B", 0.0), ("tie", 0.5)),
        embed_fields=("response_a", "response_b", "prompt"),
        # A split preference is an answer ("neither is better"), trained as half a win each way.
        consensus_ties="tie",
        training_ties="tie",
        tie_rules=("tie", "abstain"),
        shown_fields=sides_.SHOWN_FIELDS,
        shown_choices=sides_.SHOWN_CHOICES,
        model_free_strategy="split_votes",
        graded_config_name="preference_graded.xml",
        graded_choices=sides_.GRADED_CHOICES,
    ),
}


def spec_of(kind: Kind | str) -> KindSpec:
    """The description of a kind, given as a Kind or its stored string."""
    return SPECS[Kind(kind)]


_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


def config_for(kind: Kind | str, config_name: str | None = None) -> str:
    """The config a project of ``kind`` uses: ``config_name`` if the kind offers it, the kind's
    default when None or empty. Raises ConfigError naming the valid ones otherwise."""
    spec = spec_of(kind)
    if not config_name:
        return spec.config_name
    if config_name not in spec.config_names:
        raise ConfigError(
            f"{config_name!r} is not a labeling config of {spec.kind}; valid: {', '.join(spec.config_names)}"
        )
    return config_name


@cache
def interface(kind: Kind | str, config_name: str | None = None) -> LabelingInterface:
    """A kind's labeling interface: its default config, or ``config_name`` (see :func:`config_for`)."""
    spec = spec_of(kind)
    name = config_for(kind, config_name)
    path = CONFIG_DIR / name
    raw = path.read_bytes()
    graded = name == spec.graded_config_name
    return _validated(spec, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest(), path, name, graded)


def interface_of(project: Any) -> LabelingInterface:
    """The interface a project was created with (its ``kind`` and ``label_config_name``)."""
    return interface(project.kind, project.label_config_name or None)


def _validated(
    spec: KindSpec, xml: str, sha256: str, path: Path, config_name: str = "", graded: bool = False
) -> LabelingInterface:
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
    if variables != sorted(spec.ls_fields):
        raise ConfigError(
            f"{path}: <Text> tags read {variables}; a {spec.kind} project needs {sorted(spec.ls_fields)}"
        )
    choices = list(root.iter("Choices"))
    if len(choices) != 1:
        raise ConfigError(f"{path}: needs exactly one <Choices>, found {len(choices)}")
    (block,) = choices
    values = tuple(c.get("value") for c in block.iter("Choice"))
    expected = spec.graded_choices if graded else spec.ls_choices
    if values != expected:
        raise ConfigError(f"{path}: choices {values} differ from {spec.kind}'s {expected}")
    multiple = block.get("choice", "single") == "multiple"
    if multiple != spec.multiple:
        raise ConfigError(f"{path}: choice='{block.get('choice')}' is wrong for {spec.kind}")
    to_name = block.get("toName", "")
    if to_name not in objects:
        raise ConfigError(f"{path}: <Choices toName='{to_name}'> names no <Text> tag")
    return LabelingInterface(
        spec=spec,
        xml=xml,
        sha256=sha256,
        choices_name=block.get("name", ""),
        to_name=to_name,
        config_name=config_name,
        graded=graded,
    )
