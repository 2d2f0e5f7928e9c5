"""Keyed hashing: pseudonymous annotator ids, salt fingerprints and file digests.

Every keyed hash is HMAC-SHA256 under the project's secret salt with a distinct domain prefix,
so the same salt can serve splits and pseudonyms without one value revealing the other.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from exports.errors import ReleaseInputError

MIN_SALT_BYTES = 16
PSEUDONYM_PREFIX = "ann_"
PSEUDONYM_HEX_CHARS = 16
PSEUDONYM_PATTERN = re.compile(r"ann_[0-9a-f]{16}")

_PSEUDONYM_DOMAIN = b"exports/annotator:"
_FINGERPRINT_DOMAIN = b"exports/salt-fingerprint"
_READ_CHUNK = 1 << 20


def salt_bytes(salt: bytes | str) -> bytes:
    """Return ``salt`` as bytes (str is UTF-8 encoded), refusing salts shorter than 16 bytes."""
    raw = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if len(raw) < MIN_SALT_BYTES:
        raise ReleaseInputError(
            f"salt must be at least {MIN_SALT_BYTES} bytes (got {len(raw)}); "
            "generate one per project, e.g. secrets.token_hex(32), and keep it secret",
            field="salt",
        )
    return raw


def pseudonymize(annotator_id: str | int, salt: bytes | str) -> str:
    """Map a real annotator id (user id, e-mail) to a stable pseudonym ``ann_<16 hex>``.

    HMAC-SHA256 keyed by the per-project ``salt`` and truncated to 64 bits: stable across
    releases of one project, unlinkable across projects with different salts, and not
    reversible by hashing candidate e-mails without the salt.
    """
    key = salt_bytes(salt)
    message = _PSEUDONYM_DOMAIN + str(annotator_id).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]


def is_pseudonym(value: str) -> bool:
    """Whether ``value`` has the shape :func:`pseudonymize` produces."""
    return PSEUDONYM_PATTERN.fullmatch(value) is not None


def salt_fingerprint(salt: bytes | str) -> str:
    """A short public fingerprint of the salt, stored in manifests to show two releases were
    split with the same salt without publishing it."""
    return hmac.new(salt_bytes(salt), _FINGERPRINT_DOMAIN, hashlib.sha256).hexdigest()[:16]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (constant memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
