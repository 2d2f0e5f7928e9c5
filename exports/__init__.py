"""Release records -> versioned dataset release files, manifests, datasheets, diffs.

A pure library over pyarrow: it never imports Django, DRF, Celery, the Label Studio SDK or the
other workbench packages. Typical use::

    manifest = build_release(
        records,                       # sorted by item_id, streamed
        kind="binary", out_dir=path, salt=project_salt,
        release_meta=ReleaseMeta(version="3", label_config_hash=h, created_by="alice"),
        formats=("jsonl", "csv", "parquet"), split_ratios=SplitRatios(0.8, 0.1, 0.1),
    )
    verify_release(downloaded_folder)   # on the client
"""

from exports.build import DEFAULT_CHUNK_ROWS, DEFAULT_FORMATS, build_release
from exports.datasheet import DatasheetInfo, LengthBias, LengthShare, render_datasheet
from exports.diff import DIFF_COLUMNS, DiffSummary, LabelRow, diff_releases, iter_release_labels
from exports.errors import ExportError, ReleaseFormatError, ReleaseInputError, VerificationError
from exports.keys import is_pseudonym, pseudonymize, salt_fingerprint, sha256_file
from exports.manifest import (
    DATASHEET_NAME,
    MANIFEST_NAME,
    MANIFEST_SCHEMA_VERSION,
    FileEntry,
    Manifest,
    ReleaseMeta,
    read_manifest,
)
from exports.records import (
    DEFAULT_CLASSES,
    PROJECT_KINDS,
    BinaryRecord,
    LabelSpace,
    MultiLabelRecord,
    MultiLabelVote,
    PreferenceRecord,
    ProjectKind,
    ReleaseRecord,
    Vote,
)
from exports.rows import arrow_schema
from exports.splits import SPLIT_NAMES, SplitAssigner, SplitRatios, assign_split
from exports.verify import verify_release
from exports.writers import FORMATS, csv_header, escape_formula

__all__ = [
    "DATASHEET_NAME",
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_CLASSES",
    "DEFAULT_FORMATS",
    "DIFF_COLUMNS",
    "FORMATS",
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA_VERSION",
    "PROJECT_KINDS",
    "SPLIT_NAMES",
    "BinaryRecord",
    "DatasheetInfo",
    "LengthBias",
    "LengthShare",
    "DiffSummary",
    "ExportError",
    "FileEntry",
    "LabelRow",
    "LabelSpace",
    "Manifest",
    "MultiLabelRecord",
    "MultiLabelVote",
    "PreferenceRecord",
    "ProjectKind",
    "ReleaseFormatError",
    "ReleaseInputError",
    "ReleaseMeta",
    "ReleaseRecord",
    "SplitAssigner",
    "SplitRatios",
    "VerificationError",
    "Vote",
    "arrow_schema",
    "assign_split",
    "build_release",
    "csv_header",
    "diff_releases",
    "escape_formula",
    "is_pseudonym",
    "iter_release_labels",
    "pseudonymize",
    "read_manifest",
    "render_datasheet",
    "salt_fingerprint",
    "sha256_file",
    "verify_release",
]
