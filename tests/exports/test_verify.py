from __future__ import annotations

import json
from pathlib import Path

import pytest

from exports import (
    MANIFEST_NAME,
    ReleaseFormatError,
    VerificationError,
    build_release,
    sha256_file,
    verify_release,
)
from tests.exports.samples import SALT, binary_records, meta


@pytest.fixture
def release(tmp_path: Path) -> Path:
    build_release(
        binary_records(range(200)), kind="binary", out_dir=tmp_path / "r", salt=SALT, release_meta=meta()
    )
    return tmp_path / "r"


def test_an_intact_download_verifies(release: Path) -> None:
    manifest = verify_release(release, manifest_sha256=sha256_file(release / MANIFEST_NAME))
    assert len(manifest.files) == 10


def test_it_names_the_corrupted_file(release: Path) -> None:
    target = release / "parquet" / "train.parquet"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(
        VerificationError, match=r"parquet/train\.parquet: sha256 is [0-9a-f]{64}, expected"
    ) as err:
        verify_release(release)
    assert err.value.extra["problems"] == [
        {"path": "parquet/train.parquet", "problem": err.value.extra["problems"][0]["problem"]}
    ]


def test_it_reports_every_missing_or_truncated_file(release: Path) -> None:
    (release / "csv" / "test.csv").unlink()
    with (release / "jsonl" / "validation.jsonl").open("r+b") as handle:
        handle.truncate(10)
    with pytest.raises(VerificationError) as err:
        verify_release(release)
    message = str(err.value)
    assert "csv/test.csv: missing" in message
    assert "jsonl/validation.jsonl: size is 10 bytes" in message
    assert "2 of 10 files failed" in message


def test_it_checks_the_manifest_itself_when_given_its_hash(release: Path) -> None:
    with pytest.raises(VerificationError, match="manifest.json: sha256 is"):
        verify_release(release, manifest_sha256="0" * 64)


def test_it_refuses_paths_outside_the_release(release: Path) -> None:
    manifest_path = release / MANIFEST_NAME
    data = json.loads(manifest_path.read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(VerificationError, match=r"\.\./\.\./etc/passwd: unsafe path"):
        verify_release(release)


def test_it_explains_a_missing_or_foreign_manifest(tmp_path: Path) -> None:
    with pytest.raises(ReleaseFormatError, match="no manifest at"):
        verify_release(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ReleaseFormatError, match="unsupported manifest schema_version 99"):
        verify_release(tmp_path)
