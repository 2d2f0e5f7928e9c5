"""What a relabel campaign selects: every selection given must hold (AND); within identity
groups, any of the groups. Checked up front, each bad value a 400 naming its field, so nothing
is published or opened on bad input.

``relabel_label``: the older answers' consensus (multi-label: the category is in it);
``relabel_pattern``: a regex over the item's text fields; ``relabel_identity_groups``: the
identity groups the safety audits assigned to the item (``workbench.audits``);
``relabel_score_min`` / ``relabel_score_max``: the current model's score (``scores.py``);
``relabel_release``: the items in that published release; ``relabel_item_ids``: these items
(which may have no label yet; another app's way to queue a sample it chose).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.audits.selectors import group_counts, groups_of
from workbench.errors import ValidationFailed
from workbench.projects.kinds import KindSpec, Label
from workbench.projects.models import Item, Project

MAX_ITEM_IDS = 100_000


@dataclass(frozen=True)
class Selection:
    label: str = ""
    pattern: str = ""
    identity_groups: tuple[str, ...] = ()
    score_min: float | None = None
    score_max: float | None = None
    release: int | None = None
    item_ids: tuple[int, ...] | None = None

    def given(self) -> bool:
        return any(
            (
                self.label,
                self.pattern,
                self.identity_groups,
                self.score_min is not None,
                self.score_max is not None,
                self.release is not None,
                self.item_ids is not None,
            )
        )

    @property
    def by_score(self) -> bool:
        return self.score_min is not None or self.score_max is not None

    def record(self) -> dict[str, Any]:
        """The selections other than label and pattern, as the campaign stores them."""
        out: dict[str, Any] = {}
        if self.identity_groups:
            out["identity_groups"] = list(self.identity_groups)
        if self.score_min is not None:
            out["score_min"] = self.score_min
        if self.score_max is not None:
            out["score_max"] = self.score_max
        if self.release is not None:
            out["release"] = self.release
        if self.item_ids is not None:
            out["item_ids"] = list(self.item_ids)
        return out


@dataclass(frozen=True)
class Checked:
    """A selection with its inputs resolved: the compiled regex and the items of the release."""

    selection: Selection
    regex: re.Pattern[str] | None = None
    release_items: frozenset[int] | None = None
    groups: frozenset[str] = field(default_factory=frozenset)


def _refuse(name: str, message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", extra={"fields": {name: [detail]}})


def selection_check(*, project: Project, spec: KindSpec, selection: Selection) -> Checked:
    s = selection
    if s.label and s.label not in spec.labels:
        raise _refuse(
            "relabel_label",
            f"{s.label!r} is not a label of {spec.kind}; valid: {', '.join(spec.labels)}.",
            f"one of {', '.join(spec.labels)}",
        )
    try:
        regex = re.compile(s.pattern) if s.pattern else None
    except re.error as exc:
        raise _refuse("relabel_pattern", f"not a valid regular expression ({exc}).", str(exc)) from exc
    for name, value in (("relabel_score_min", s.score_min), ("relabel_score_max", s.score_max)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
            raise _refuse(name, f"a model score lies in [0, 1]; got {value}.", "a number in [0, 1]")
    if s.score_min is not None and s.score_max is not None and s.score_min > s.score_max:
        raise _refuse(
            "relabel_score_max",
            f"{s.score_max} is below relabel_score_min {s.score_min}.",
            "at least relabel_score_min",
        )
    if s.by_score and spec.multiple:
        raise _refuse(
            "relabel_score_min",
            f"{spec.kind} labels are sets of categories; a model score range needs a single-choice kind.",
            "single-choice kinds only",
        )
    if s.item_ids is not None:
        item_ids_check(project=project, item_ids=s.item_ids)
    return Checked(
        selection=s,
        regex=regex,
        release_items=_release_items(project, s.release),
        groups=_groups(project, s.identity_groups),
    )


def _groups(project: Project, wanted: Sequence[str]) -> frozenset[str]:
    if not wanted:
        return frozenset()
    known = group_counts(project=project)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        where = f"groups: {', '.join(known)}" if known else "no identity groups are assigned yet"
        raise _refuse(
            "relabel_identity_groups",
            f"no item of the project is in {', '.join(map(repr, unknown))} ({where}).",
            f"unknown: {', '.join(unknown)}",
        )
    return frozenset(wanted)


def _release_items(project: Project, version: int | None) -> frozenset[int] | None:
    if version is None:
        return None
    from exports import iter_release_labels
    from workbench.releases.models import Release
    from workbench.releases.services import release_folder

    release = Release.objects.filter(project=project, version=version).first()
    if release is None:
        raise _refuse("relabel_release", f"project {project.id} has no release {version}.", "no such release")
    if release.status != Release.Status.PUBLISHED:
        raise _refuse(
            "relabel_release", f"release {version} is {release.status}, not published.", "not published"
        )
    return frozenset(row.item_id for row in iter_release_labels(release_folder(release)))


def item_ids_check(*, project: Project, item_ids: Sequence[int]) -> None:
    if len(item_ids) > MAX_ITEM_IDS:
        raise _refuse(
            "relabel_item_ids",
            f"at most {MAX_ITEM_IDS} items; got {len(item_ids)}.",
            f"at most {MAX_ITEM_IDS}",
        )
    found = set(Item.objects.filter(project=project, id__in=list(item_ids)).values_list("id", flat=True))
    missing = sorted(set(item_ids) - found)
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise _refuse(
            "relabel_item_ids",
            f"{len(missing)} id(s) are not items of project {project.id}: {shown}.",
            "not items of the project",
        )


def text_of(item_data: dict[str, Any], spec: KindSpec) -> str:
    return "\n".join(str(item_data.get(name, "")) for name in spec.data_fields)


def keeps_label(spec: KindSpec, wanted: str, old: Label | None) -> bool:
    if not wanted:
        return True
    if old is None:
        return False
    return wanted in old if spec.multiple else old == wanted


def in_groups(checked: Checked, project: Project, item_ids: Sequence[int]) -> set[int]:
    """The items (of ``item_ids``) in any of the selected identity groups."""
    found = groups_of(project=project, item_ids=item_ids)
    return {item_id for item_id, groups in found.items() if groups & checked.groups}
