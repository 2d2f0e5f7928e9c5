"""Client-side check of a downloaded release against its manifest."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from exports.errors import VerificationError
from exports.keys import sha256_file
from exports.manifest import MANIFEST_NAME, Manifest, read_manifest


def verify_release(
    folder: Path | str,
    manifest: Manifest | Path | str | None = None,
    *,
    manifest_sha256: str | None = None,
) -> Manifest:
    """Check every file the manifest lists: present, same size, same sha256.

    ``manifest`` defaults to ``<folder>/manifest.json``. Pass ``manifest_sha256`` (published
    by the server next to the release) to also check the manifest file itself. Every file is
    checked before raising, and :class:`~exports.errors.VerificationError` names each file that
    failed and why (``extra["problems"]``). Returns the manifest on success.
    """
    root = Path(folder)
    if isinstance(manifest, Manifest):
        if manifest_sha256 is not None:
            raise ValueError("manifest_sha256 needs the manifest as a file, not a Manifest")
        loaded = manifest
    else:
        manifest_path = root / MANIFEST_NAME if manifest is None else Path(manifest)
        loaded = read_manifest(manifest_path)
        if manifest_sha256 is not None:
            actual = sha256_file(manifest_path)
            if actual != manifest_sha256.lower():
                raise VerificationError(
                    f"{manifest_path.name}: sha256 is {actual}, expected {manifest_sha256}",
                    problems=[{"path": manifest_path.name, "problem": "sha256 mismatch"}],
                )
    problems: list[dict[str, str]] = []
    for entry in loaded.files:
        problem = _check(root, entry.path, entry.bytes, entry.sha256)
        if problem:
            problems.append({"path": entry.path, "problem": problem})
    if problems:
        listing = "; ".join(f"{p['path']}: {p['problem']}" for p in problems)
        raise VerificationError(
            f"release at {root} does not match its manifest ({len(problems)} of "
            f"{len(loaded.files)} files failed): {listing}",
            problems=problems,
        )
    return loaded


def _check(root: Path, rel: str, size: int, sha256: str) -> str | None:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return "unsafe path in manifest (absolute or containing '..'); refusing to read it"
    path = root.joinpath(*pure.parts)
    if not path.is_file():
        return "missing"
    actual_size = path.stat().st_size
    if actual_size != size:
        return f"size is {actual_size} bytes, expected {size} (truncated or wrong file?)"
    actual = sha256_file(path)
    if actual != sha256:
        return f"sha256 is {actual}, expected {sha256} (corrupted or modified)"
    return None
