"""Reads a project's items and annotations and turns them into ``exports`` release records.

Streams in item-id order, a chunk of items at a time, so memory stays flat in the size of
the project; the filter policy decides what goes in and every exclusion is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from exports import (
    BinaryRecord,
    MultiLabelRecord,
    MultiLabelVote,
    PreferenceRecord,
    ReleaseRecord,
    Vote,
)
from exports import pseudonymize as _pseudonymize
from workbench import votes
from workbench.projects.kinds import KindSpec, interface_of, spec_of
from workbench.projects.models import Item, Project
from workbench.quality.selectors import items_with_active_issues
from workbench.releases import consensus

CHUNK_ITEMS = 2000


@dataclass(frozen=True)
class FilterPolicy:
    """What goes into a release. Items nobody labeled never do.

    ``consensus_method`` None means the project's quality setting (``release_create`` fills it
    in). ``quality_run`` is not asked for: ``release_create`` records the project's newest
    finished quality run, whose label issues and stored consensus the release uses. Without
    one there are no label issues to exclude, and the recorded policy says so
    (``label_issues_applied: false``).
    """

    min_annotators: int = 1
    min_quality: float | None = None
    exclude_open_label_issues: bool = True
    consensus_method: str | None = None
    quality_run: int | None = None
    # "current": only answers made under the guideline version in force when the release was
    # created (``guideline_version``, filled in by ``release_create``); "all": every answer.
    guideline_versions: str = "all"
    guideline_version: int | None = None

    @property
    def label_issues_applied(self) -> bool:
        return self.exclude_open_label_issues and self.quality_run is not None

    def to_dict(self) -> dict[str, Any]:
        method = self.consensus_method or consensus.FALLBACK_METHOD
        return {
            **asdict(self),
            "label_issues_applied": self.label_issues_applied,
            "consensus_source": consensus.source(method, self.quality_run),
        }


def pseudonym(ls_user_id: int, salt: str) -> str:
    return _pseudonymize(f"ls-user:{ls_user_id}", salt)


def release_records(
    *, project: Project, salt: str, policy: FilterPolicy, excluded: Counter[str]
) -> Iterator[ReleaseRecord]:
    """The project's records, sorted by item id; adds the reason for each left-out item to
    ``excluded`` (the first that applies: ``unlabeled``, ``below_min_annotators``,
    ``open_label_issue`` (open or in review), ``below_min_quality``)."""
    spec = spec_of(project.kind)
    graded = interface_of(project).graded
    method = consensus.get(policy.consensus_method or consensus.FALLBACK_METHOD)
    last_id = 0
    while True:
        items = list(
            Item.objects.filter(project=project, id__gt=last_id)
            .order_by("id")
            .values_list("id", "external_id", "data")[:CHUNK_ITEMS]
        )
        if not items:
            return
        last_id = items[-1][0]
        only = policy.guideline_version if policy.guideline_versions == "current" else None
        voted_by, strengths = _votes_for(project, spec, [item_id for item_id, _, _ in items], salt, only)
        voted = [
            consensus.ItemVotes(item_id, voted_by[item_id])
            for item_id, _, _ in items
            if voted_by.get(item_id)
        ]
        decided = dict(zip((v.item_id for v in voted), method(spec, voted), strict=True))
        flagged = items_with_active_issues(item_ids=list(decided)) if policy.label_issues_applied else set()
        for item_id, external_id, data in items:
            result = decided.get(item_id)
            if result is None:
                excluded["unlabeled"] += 1
            elif len(voted_by[item_id]) < policy.min_annotators:
                excluded["below_min_annotators"] += 1
            elif item_id in flagged:
                excluded["open_label_issue"] += 1
            elif policy.min_quality is not None and (result.quality or 0.0) < policy.min_quality:
                excluded["below_min_quality"] += 1
            else:
                # A graded pair's strength: from its counted votes, in the direction the method chose.
                strength = votes.consensus_strength(result.label, strengths[item_id]) if graded else None
                yield _record(spec, item_id, external_id, data, voted_by[item_id], result, strength)


def _votes_for(
    project: Project, spec: KindSpec, item_ids: list[int], salt: str, guideline_version: int | None
) -> tuple[dict[int, tuple[tuple[str, Any], ...]], dict[int, list[tuple[Any, int | None]]]]:
    """Each item's counted votes (the vote policy's answers that count; with a guideline
    version, only those made under it), sorted by pseudonym; and their (label, strength) pairs
    for a graded consensus strength."""
    counted = votes.counted_answers(
        project=project, spec=spec, item_ids=item_ids, guideline_version=guideline_version
    )
    voted = {
        item_id: tuple(sorted((pseudonym(a.ls_user_id, salt), a.label) for a in answers))
        for item_id, answers in counted.items()
    }
    strengths = {item_id: [(a.label, a.strength) for a in answers] for item_id, answers in counted.items()}
    return voted, strengths


def _record(
    spec: KindSpec,
    item_id: int,
    external_id: str,
    data: dict[str, Any],
    votes: tuple[tuple[str, Any], ...],
    result: consensus.Consensus,
    strength: float | None = None,
) -> ReleaseRecord:
    external = external_id or str(item_id)
    kind = spec.export_kind
    if kind == "multilabel":
        return MultiLabelRecord(
            item_id=item_id,
            external_id=external,
            text=data["text"],
            labels=tuple(result.label),
            soft_label=result.soft_label,
            annotations=tuple(MultiLabelVote(who, tuple(labels)) for who, labels in votes),
            quality=result.quality,
        )
    annotations = tuple(Vote(who, str(label)) for who, label in votes)
    if kind == "preference":
        return PreferenceRecord(
            item_id=item_id,
            external_id=external,
            prompt=data["prompt"],
            response_a=data["response_a"],
            response_b=data["response_b"],
            label=str(result.label),
            soft_label=result.soft_label,
            annotations=annotations,
            quality=result.quality,
            strength=strength,
        )
    return BinaryRecord(
        item_id=item_id,
        external_id=external,
        text=data["text"],
        label=str(result.label),
        soft_label=result.soft_label,
        annotations=annotations,
        quality=result.quality,
    )
