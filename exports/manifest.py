"""Release metadata in, manifest out.

The manifest is the release's table of contents: schema version, label space, release
metadata exactly as passed in, split ratios and salt fingerprint, counts, and sha256 + size of
every file. It is serialized with a fixed key order and no clock readings, so building the
same state twice gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exports.errors import ReleaseFormatError, ReleaseInputError

MANIFEST_SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATASHEET_NAME = "DATASHEET.md"

JSONValue = None | bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"]


@dataclass(frozen=True)
class ReleaseMeta:
    """Who/what/when of a release, copied verbatim into the manifest.

    ``created_at`` is a string the caller passes (ISO 8601); the library never reads the clock,
    so the same state and metadata give the same bytes. ``filter_policy`` and ``source_state``
    are free-form JSON (e.g. minimum annotations, excluded issue ids; Label Studio project id,
    last annotation id, round ids).
    """

    version: str
    label_config_hash: str
    created_by: str
    tag: str = ""
    created_at: str | None = None
    project: str = ""
    filter_policy: Mapping[str, JSONValue] = field(default_factory=dict)
    source_state: Mapping[str, JSONValue] = field(default_factory=dict)
    extra: Mapping[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("version", "label_config_hash", "created_by"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ReleaseInputError(
                    f"release_meta.{name} must be a non-empty string, got {value!r}",
                    field=f"release_meta.{name}",
                )
        for name in ("filter_policy", "source_state", "extra"):
            try:
                _dumps(getattr(self, name))
            except (TypeError, ValueError) as exc:
                raise ReleaseInputError(
                    f"release_meta.{name} must be JSON-serializable without NaN: {exc}",
                    field=f"release_meta.{name}",
                ) from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tag": self.tag,
            "project": self.project,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "label_config_hash": self.label_config_hash,
            "filter_policy": _plain(self.filter_policy),
            "source_state": _plain(self.source_state),
            "extra": _plain(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleaseMeta:
        return cls(**{key: data[key] for key in data if key in _RELEASE_META_FIELDS})


_RELEASE_META_FIELDS = frozenset(ReleaseMeta.__dataclass_fields__)


@dataclass(frozen=True)
class FileEntry:
    """One file of a release; ``path`` is relative to the release folder, POSIX style."""

    path: str
    format: str
    split: str | None
    rows: int | None
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "split": self.split,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Manifest:
    """Everything about a release except its rows. ``stats`` holds the counts:

    ``records``, ``by_split``, ``by_label`` (consensus positives per class; multilabel also
    ``no_label``), ``by_split_and_label``, ``annotators`` (distinct pseudonyms),
    ``annotations``, ``quality`` (count/mean/min/max of non-null scores) and, for preference
    projects with the ``trl`` / ``trl_conversational`` formats, an entry of that name (pairs written and
    ties excluded, per split, and ``margin``: whether its rows carry TRL's ``margin``).
    """

    kind: str
    classes: tuple[str, ...]
    release: ReleaseMeta
    splits: Mapping[str, Any]
    stats: Mapping[str, Any]
    files: tuple[FileEntry, ...]
    schema_version: int = MANIFEST_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "classes": list(self.classes),
            "release": self.release.to_dict(),
            "splits": _plain(self.splits, sort_keys=False),
            "stats": _plain(self.stats, sort_keys=False),
            "files": [entry.to_dict() for entry in self.files],
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode(
            "utf-8"
        )

    def file(self, fmt: str, split: str) -> FileEntry | None:
        for entry in self.files:
            if entry.format == fmt and entry.split == split:
                return entry
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        version = data.get("schema_version")
        if version != MANIFEST_SCHEMA_VERSION:
            raise ReleaseFormatError(
                f"unsupported manifest schema_version {version!r} "
                f"(this library reads {MANIFEST_SCHEMA_VERSION})",
                schema_version=version,
            )
        try:
            return cls(
                kind=data["kind"],
                classes=tuple(data["classes"]),
                release=ReleaseMeta.from_dict(data["release"]),
                splits=data["splits"],
                stats=data["stats"],
                files=tuple(FileEntry(**entry) for entry in data["files"]),
            )
        except (KeyError, TypeError, ReleaseInputError) as exc:
            raise ReleaseFormatError(f"malformed manifest: {exc}") from exc


def read_manifest(path: Path | str) -> Manifest:
    """Load a manifest from ``manifest.json`` or from the release folder containing it."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReleaseFormatError(f"no manifest at {path}", path=str(path)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseFormatError(f"{path} is not a JSON manifest: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise ReleaseFormatError(f"{path} is not a JSON object", path=str(path))
    return Manifest.from_dict(data)


def _dumps(value: object) -> str:
    return json.dumps(value, allow_nan=False, sort_keys=True)


def _plain(value: Mapping[str, Any], *, sort_keys: bool = True) -> Any:
    """A JSON round trip to plain dicts/lists. Caller-given mappings get sorted keys so their
    insertion order can't change the bytes; the library's own stats keep their fixed order."""
    return json.loads(json.dumps(value, allow_nan=False, sort_keys=sort_keys))
