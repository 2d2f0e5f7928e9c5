"""The exports library's own errors.

They carry a stable ``code`` and structured ``extra`` so the Django side can map them onto its
``{"message", "code", "extra"}`` vocabulary without parsing messages.
"""

from __future__ import annotations

from typing import Any


class ExportError(Exception):
    """Base class of every error this library raises on purpose."""

    code = "export_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = extra


class ReleaseInputError(ExportError, ValueError):
    """A record, argument or release metadata value is invalid.

    ``extra`` names the record position (0-based), its ``item_id`` and the ``field`` when the
    problem is in a record.
    """

    code = "invalid_release_input"


class VerificationError(ExportError):
    """A downloaded release does not match its manifest; ``extra["problems"]`` lists
    ``{"path", "problem"}`` for every file that failed."""

    code = "release_verification_failed"


class ReleaseFormatError(ExportError):
    """A release folder or manifest cannot be read (missing files, unknown schema version)."""

    code = "release_format_error"
