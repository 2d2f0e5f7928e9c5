"""Releases: create (pending), build (a Celery task), diff. Published releases never change.

Files live under ``RELEASES_DIR/<project id>/v<version>/`` and are written once by
``exports.build_release`` (which refuses an existing folder), then made read-only. A diff of two
published releases is computed once into ``RELEASES_DIR/<project id>/diffs/v<a>-v<b>/``: both
sides are immutable, so it stays true.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import stat
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

import label_quality as lq
from workbench.bounds import INT32_MAX, Bound, check_bounds
from workbench.errors import Conflict, NotFound, ValidationFailed
from workbench.projects.kinds import interface_of, spec_of
from workbench.projects.models import Project
from workbench.quality.selectors import consensus_method_of, latest_run
from workbench.releases import consensus
from workbench.releases.models import Release, ReleaseSettings
from workbench.releases.records import FilterPolicy, release_records
from workbench.rounds.models import Round
from workbench.rounds.selectors import rounds_of

log = logging.getLogger(__name__)

ALL_FORMATS = ("jsonl", "csv", "parquet", "trl", "trl_conversational")


def release_settings_get(*, project: Project) -> ReleaseSettings:
    """The project's release settings, made (with a fresh secret salt) on first use."""
    found = ReleaseSettings.objects.filter(project=project).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ReleaseSettings.objects.create(project=project, salt=secrets.token_hex(32))
    except IntegrityError:  # made at the same moment by another request
        return ReleaseSettings.objects.get(project=project)


def default_formats(project: Project) -> tuple[str, ...]:
    base = ("jsonl", "csv", "parquet")
    return (*base, "trl") if spec_of(project.kind).export_kind == "preference" else base


# The filter options a release can be built with (checked here; the API's fields come from it).
RELEASE_BOUNDS: dict[str, Bound] = {
    "min_annotators": Bound(1, INT32_MAX, integer=True),
    "min_quality": Bound(0, 1, nullable=True, why="a consensus quality score"),
}


def release_create(
    *,
    project: Project,
    created_by: User | None,
    tag: str = "",
    policy: FilterPolicy | None = None,
    split_ratios: dict[str, float] | None = None,
    formats: Sequence[str] | None = None,
) -> Release:
    """Record a new pending release (next version of the project) and enqueue its build.

    The policy's consensus method defaults to the project's quality setting; the release
    records the newest finished quality run (whose stored consensus and label issues it uses)
    and the last finished active-learning round with its model version."""
    from exports import ReleaseInputError, SplitRatios

    policy = policy or FilterPolicy()
    policy, guidelines = _guideline_policy(project, policy)
    method = policy.consensus_method or consensus_method_of(project)
    consensus.get(method)  # unknown method: fail now, not in the worker
    quality_run = latest_run(project)
    policy = dataclasses.replace(
        policy, consensus_method=method, quality_run=quality_run.id if quality_run is not None else None
    )
    tag_limit = Release._meta.get_field("tag").max_length or 0
    if len(tag) > tag_limit:  # the API's serializer says so too; commands come straight here
        raise ValidationFailed(f"tag must be at most {tag_limit} characters; got {len(tag)}.")
    check_bounds(RELEASE_BOUNDS, {"min_annotators": policy.min_annotators, "min_quality": policy.min_quality})
    try:
        ratios = SplitRatios(**(split_ratios or {}))
    except (ReleaseInputError, TypeError) as exc:
        raise ValidationFailed(f"Bad split ratios: {exc}") from exc
    chosen = tuple(formats) if formats else default_formats(project)
    bad = [f for f in chosen if f not in ALL_FORMATS]
    if bad:
        raise ValidationFailed(f"Unknown formats {bad}; valid: {', '.join(ALL_FORMATS)}.")
    for pair_format in ("trl", "trl_conversational"):
        if pair_format in chosen and spec_of(project.kind).export_kind != "preference":
            raise ValidationFailed(f"The {pair_format} format needs a preference project.")
    release_settings_get(project=project)
    name = ""
    if created_by is not None and created_by.pk:
        name = getattr(created_by, "email", "") or created_by.get_username()
    try:
        with transaction.atomic():
            # Lock the project row so two creates can't pick the same version; the unique
            # constraint is the backstop (SQLite has no row locks).
            Project.objects.select_for_update().filter(id=project.id).first()
            last = Release.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
            last_round = rounds_of(project).filter(status=Round.Status.DONE).first()
            release = Release.objects.create(
                project=project,
                version=last + 1,
                tag=tag,
                created_by=created_by if created_by is not None and created_by.pk else None,
                created_by_name=name or "system",
                label_config_sha256=project.label_config_sha256,
                guideline_version=guidelines,
                last_round_id=last_round.id if last_round is not None else None,
                model_version=last_round.model_version if last_round is not None else None,
                filter_policy=policy.to_dict(),
                split_ratios=ratios.as_dict(),
                formats=[f for f in ALL_FORMATS if f in chosen],
            )
            transaction.on_commit(lambda: _enqueue_build(release.id))
    except IntegrityError as exc:
        raise Conflict("Another release of this project was created at the same moment; retry.") from exc
    return release


GUIDELINE_CHOICES = ("all", "current")


def _guideline_policy(project: Project, policy: FilterPolicy) -> tuple[FilterPolicy, str | None]:
    """The policy with the guideline version it keeps pinned ("current": the version in force
    now, so a later publish cannot change what the release holds), and the versions the release
    records: "v2", or "v1,v2" for every stamped version (None: no answer carries one)."""
    from workbench.guidelines.selectors import current_version, stamped_versions  # builds on releases' inputs

    if policy.guideline_versions not in GUIDELINE_CHOICES:
        raise ValidationFailed(
            f"guideline_versions must be one of {', '.join(GUIDELINE_CHOICES)}; "
            f"got {policy.guideline_versions!r}.",
            extra={"fields": {"guideline_versions": [f"one of {', '.join(GUIDELINE_CHOICES)}"]}},
        )
    if policy.guideline_versions == "all":
        stamped = stamped_versions(project)
        return dataclasses.replace(policy, guideline_version=None), (
            ",".join(f"v{v}" for v in stamped) or None
        )
    current = current_version(project)
    if current is None:
        raise ValidationFailed(
            "guideline_versions 'current': this project has no published guideline.",
            extra={"fields": {"guideline_versions": ["no published guideline"]}},
        )
    return dataclasses.replace(policy, guideline_version=current), f"v{current}"


def _enqueue_build(release_id: int) -> None:
    from workbench.releases.tasks import build_release

    build_release.delay(release_id)


def release_folder(release: Release) -> Path:
    return Path(settings.RELEASES_DIR) / str(release.project_id) / f"v{release.version}"


def release_build(*, release_id: int) -> Release | None:
    """Build a pending release's files and publish it. Runs twice safely: the first run
    claims the row (pending -> building); a second finds nothing to claim and returns None."""
    claimed = Release.objects.filter(id=release_id, status=Release.Status.PENDING).update(
        status=Release.Status.BUILDING
    )
    if not claimed:
        return None
    release = Release.objects.select_related("project").get(id=release_id)
    try:
        manifest, manifest_sha256, excluded = _write_files(release)
    except Exception as exc:
        log.exception("release %s of project %s failed", release.version, release.project_id)
        Release.objects.filter(id=release_id, status=Release.Status.BUILDING).update(
            status=Release.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        return Release.objects.get(id=release_id)
    with transaction.atomic():
        Release.objects.filter(id=release_id, status=Release.Status.BUILDING).update(
            status=Release.Status.PUBLISHED,
            folder=str(release_folder(release).relative_to(settings.RELEASES_DIR)),
            manifest=manifest,
            manifest_sha256=manifest_sha256,
            record_count=manifest["stats"]["records"],
            excluded=excluded,
            finished_at=timezone.now(),
        )
    return Release.objects.get(id=release_id)


def _write_files(release: Release) -> tuple[dict[str, Any], str, dict[str, int]]:
    from exports import DatasheetInfo, ReleaseMeta, SplitRatios, build_release, sha256_file
    from workbench.audits.services.datasheet import release_audit_sections

    project = release.project
    salt = release_settings_get(project=project).salt
    policy = FilterPolicy(
        **{k: v for k, v in release.filter_policy.items() if k in FilterPolicy.__dataclass_fields__}
    )
    excluded: Counter[str] = Counter()
    labels_from = consensus.source(policy.consensus_method or consensus.FALLBACK_METHOD, policy.quality_run)
    meta = ReleaseMeta(
        version=str(release.version),
        tag=release.tag,
        project=project.name,
        created_by=release.created_by_name,
        created_at=release.created_at.isoformat().replace("+00:00", "Z"),
        label_config_hash=f"sha256:{release.label_config_sha256}",
        filter_policy=release.filter_policy,
        source_state={
            "label_config_sha256": release.label_config_sha256,
            "guideline_version": release.guideline_version,
            "last_round": release.last_round_id,
            "model_version": release.model_version,
        },
    )
    folder = release_folder(release)
    if folder.exists():
        # Left by a build that died before publishing (this row was never published).
        shutil.rmtree(folder)
    records = release_records(project=project, salt=salt, policy=policy, excluded=excluded)
    lengths = LengthTally()
    if spec_of(project.kind).export_kind == "preference":
        records = lengths.counting(records)
    build_release(
        records,
        kind=spec_of(project.kind).export_kind,
        classes=spec_of(project.kind).labels,
        graded=interface_of(project).graded,
        out_dir=folder,
        salt=salt,
        release_meta=meta,
        formats=release.formats,
        split_ratios=SplitRatios(**release.split_ratios),
        datasheet=DatasheetInfo(
            title=project.name,
            description=project.description,
            labeling=(
                f"Labeled in Label Studio ({project.annotators_per_item} annotator(s) per item); "
                f"consensus: {labels_from}."
            ),
            filters_applied=_FilterLines(policy, excluded),
            extra_sections=release_audit_sections(project=project, round_id=release.last_round_id),
            length_bias=lengths if spec_of(project.kind).export_kind == "preference" else None,
        ),
    )
    _make_read_only(folder)
    from exports import read_manifest

    manifest = read_manifest(folder).to_dict()
    return manifest, sha256_file(folder / "manifest.json"), dict(sorted(excluded.items()))


class LengthTally:
    """How often a preference release's chosen response is the longer one (characters), counted
    while its records stream through and read by the datasheet afterwards (like
    :class:`_FilterLines`); the interval is ``label_quality``'s Wilson interval."""

    def __init__(self) -> None:
        self.longer = self.decided = 0

    def counting(self, records: Iterable[Any]) -> Iterator[Any]:
        for record in records:
            if record.label in ("A", "B"):
                chosen, rejected = (
                    (record.response_a, record.response_b)
                    if record.label == "A"
                    else (record.response_b, record.response_a)
                )
                if len(chosen) != len(rejected):
                    self.decided += 1
                    self.longer += len(chosen) > len(rejected)
            yield record

    @property
    def longer_chosen(self) -> int:
        return self.longer

    @property
    def pairs(self) -> int:
        return self.decided

    @property
    def ci_low(self) -> float:
        return lq.wilson_share(self.longer, self.decided).ci_low

    @property
    def ci_high(self) -> float:
        return lq.wilson_share(self.longer, self.decided).ci_high


class _FilterLines(Sequence[str]):
    """The datasheet's filter lines, rendered when they are read: the datasheet is written after
    the records have streamed through, so by then ``excluded`` holds the real counts (a list made
    before ``build_release`` would say 0 for every reason)."""

    def __init__(self, policy: FilterPolicy, excluded: Counter[str]) -> None:
        self._policy, self._excluded = policy, excluded

    def __len__(self) -> int:
        return len(_filters_text(self._policy, self._excluded))

    def __getitem__(self, index: Any) -> Any:
        return _filters_text(self._policy, self._excluded)[index]


def _filters_text(policy: FilterPolicy, excluded: Counter[str]) -> list[str]:
    lines = [f"Items with no (non-skipped) annotation left out: {excluded['unlabeled']}."]
    lines.append(
        f"At least {policy.min_annotators} annotator(s) per item; "
        f"left out: {excluded['below_min_annotators']}."
    )
    if policy.min_quality is not None:
        lines.append(
            f"Label quality at least {policy.min_quality}; left out: {excluded['below_min_quality']}."
        )
    if policy.guideline_versions == "current":
        lines.append(f"Only answers made under guideline v{policy.guideline_version} count.")
    if policy.label_issues_applied:
        lines.append(
            f"Items with an open or in-review label issue (quality run {policy.quality_run}) left out: "
            f"{excluded['open_label_issue']}."
        )
    elif policy.exclude_open_label_issues:
        lines.append(
            "Exclude items with open label issues: asked, but label quality had not been computed "
            "for this project, so there were none."
        )
    return lines


def _make_read_only(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            os.chmod(Path(root) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def release_delete(*, release: Release) -> None:
    """Remove a failed (or never built) release and its files. A published one is refused:
    it is history, and someone may be training on it."""
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(id=release.id)
        if locked.status in (Release.Status.PUBLISHED, Release.Status.BUILDING):
            raise Conflict(
                f"Release {locked.version} is {locked.status} and cannot be deleted; "
                "published releases are immutable.",
                extra={"version": locked.version, "status": locked.status},
            )
        locked.delete()
    shutil.rmtree(release_folder(release), ignore_errors=True)


def release_diff(*, old: Release, new: Release) -> tuple[dict[str, Any], Path]:
    """Diff two published releases of one project; returns the summary and the folder that
    holds ``diff.csv`` / ``diff.jsonl``. Relabels are attributed to the relabel campaign whose
    follow-up answer came in between the two builds (``guidelines.campaigns.relabel_sources``),
    once, when the diff is first computed."""
    import json

    from exports import diff_releases
    from workbench.guidelines.campaigns import relabel_sources  # guidelines builds on releases

    if old.project_id != new.project_id:
        raise ValidationFailed("Both releases must belong to the same project.")
    for release in (old, new):
        if release.status != Release.Status.PUBLISHED:
            raise Conflict(f"Release {release.version} is {release.status}, not published.")
    root = Path(settings.RELEASES_DIR) / str(new.project_id) / "diffs"
    target = root / f"v{old.version}-v{new.version}"
    summary_path = target / "diff.json"
    if not summary_path.exists():
        staging = root / f".v{old.version}-v{new.version}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            sources = relabel_sources(
                project=new.project,
                item_ids=None,
                after=old.finished_at or old.created_at,
                before=new.finished_at or new.created_at,
            )
            diff_releases(release_folder(old), release_folder(new), out_dir=staging, attribution=sources)
            with contextlib.suppress(OSError):  # another request finished the same diff first
                os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not summary_path.exists():
        raise NotFound("The diff could not be computed.")
    return json.loads(summary_path.read_text(encoding="utf-8")), target
