"""Serving immutable files: strong sha256 ETags, conditional GET and single HTTP ranges, so an
interrupted download resumes where it stopped (RFC 9110 sections 13 and 14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1 << 20


def file_response(request: HttpRequest, path: Path, sha256: str, *, content_type: str) -> HttpResponseBase:
    etag = f'"{sha256}"'
    size = path.stat().st_size
    if etag in _etags(request.headers.get("If-None-Match", "")):
        response: HttpResponseBase = HttpResponse(status=304)
    else:
        wanted = _range(request, etag, size)
        if wanted == "unsatisfiable":
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
        elif wanted is None:
            response = FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
            response["Content-Type"] = content_type
        else:
            start, end = wanted
            response = StreamingHttpResponse(_slice(path, start, end), status=206, content_type=content_type)
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
            response["Content-Disposition"] = f'attachment; filename="{path.name}"'
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    # Immutable content under a versioned URL: caches may keep it, but it is private data.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _range(request: HttpRequest, etag: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """``(first, last)`` byte positions, ``"unsatisfiable"``, or None for the whole file."""
    header = request.headers.get("Range", "").strip()
    if not header:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None  # the client's partial copy is of another file: send all of this one
    match = _RANGE.match(header.replace(" ", ""))
    if match is None:
        return None  # several ranges or another unit: a full response is always allowed
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def _slice(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
