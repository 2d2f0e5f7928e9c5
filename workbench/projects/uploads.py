"""A Django upload handler that refuses an over-limit multipart body before any of it is read.

Django streams multipart file parts to memory or a temporary file as it parses; it does not bound
their size. This handler, first in ``FILE_UPLOAD_HANDLERS``, refuses the body by its length
before parsing starts, so an over-limit upload is neither read nor written to disk, even where
the body is parsed before the view runs (the CSRF check of a session-authenticated request).
The import then checks the file again while reading it (``workbench.projects.streams``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from workbench.errors import PayloadTooLarge

# Room for the multipart framing and the form fields around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def body_limit() -> int:
    return int(settings.IMPORT_MAX_FILE_BYTES) + MULTIPART_OVERHEAD_BYTES


def refuse_if_too_large(content_length: int) -> None:
    limit = settings.IMPORT_MAX_FILE_BYTES
    if content_length > body_limit():
        raise PayloadTooLarge(
            f"The request body ({content_length} bytes) is larger than the {limit}-byte limit "
            "(IMPORT_MAX_FILE_BYTES); nothing was imported.",
            extra={"limit": limit},
        )


class BoundedUploadHandler(FileUploadHandler):
    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        refuse_if_too_large(content_length)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # the next handler (memory or temporary file) keeps it

    def file_complete(self, file_size: int) -> None:
        return None
