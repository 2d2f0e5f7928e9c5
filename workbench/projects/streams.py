"""Bounded, streaming reads of an import file: raw bytes -> (gunzip) -> UTF-8 text -> lines.

Nothing here holds the whole file: bytes are counted as they go by and the read stops with
``StreamTooLarge`` the moment a limit is passed, so a small gzip that inflates to gigabytes
(a "zip bomb") costs one chunk of memory, not the inflated size. A plain file is held to both
limits (its decompressed size is its size).
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

CHUNK_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class StreamTooLarge(Exception):
    """More bytes than ``limit`` (``what``: "file" or "decompressed")."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} over {limit} bytes")
        self.what = what
        self.limit = limit


class StreamBroken(Exception):
    """The bytes are not what they claim to be (broken gzip, bytes that are not UTF-8)."""


class _Counted(io.RawIOBase):
    """A read-only stream that counts (and hashes) what passes and refuses more than ``limit``."""

    def __init__(self, inner: BinaryIO | io.RawIOBase, *, limit: int | None, what: str, digest: bool) -> None:
        self.inner = inner
        self.limit = limit
        self.what = what
        self.count = 0
        self.sha256 = hashlib.sha256() if digest else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        if not data:
            return 0
        self.count += len(data)
        if self.limit is not None and self.count > self.limit:
            raise StreamTooLarge(self.what, self.limit)
        if self.sha256 is not None:
            self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)


class BoundedText:
    """The lines of a (possibly gzipped) UTF-8 byte stream, read chunk by chunk under limits.

    ``sha256`` (of the raw bytes) and ``size`` are final once the lines are exhausted.
    """

    def __init__(
        self, raw: BinaryIO, *, max_file_bytes: int | None, max_decompressed_bytes: int | None
    ) -> None:
        self._raw = _Counted(raw, limit=max_file_bytes, what="file", digest=True)
        self._max_decompressed = max_decompressed_bytes
        self._buffered = io.BufferedReader(self._raw, CHUNK_BYTES)

    @property
    def sha256(self) -> str:
        assert self._raw.sha256 is not None
        return self._raw.sha256.hexdigest()

    @property
    def size(self) -> int:
        return self._raw.count

    def _plain_chunks(self) -> Iterator[bytes]:
        gzipped = self._buffered.peek(2)[:2] == GZIP_MAGIC
        source = cast(
            BinaryIO, gzip.GzipFile(fileobj=self._buffered, mode="rb") if gzipped else self._buffered
        )
        plain = _Counted(source, limit=self._max_decompressed, what="decompressed", digest=False)
        while True:
            try:
                chunk = plain.read(CHUNK_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                raise StreamBroken(f"broken gzip data: {exc}") from exc
            if not chunk:
                return
            yield chunk

    def _text_chunks(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        consumed = 0  # bytes handed to the decoder so far
        newlines = 0
        for chunk in self._plain_chunks():
            pending = decoder.getstate()[0]
            try:
                yield decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start counts from the decoder's leftover bytes, which came before this chunk.
                offset = consumed - len(pending) + exc.start
                line = newlines + (pending + chunk)[: exc.start].count(b"\n") + 1
                bad = exc.object[exc.start : exc.start + 1].hex()
                raise StreamBroken(f"line {line}: byte 0x{bad} at offset {offset} is not UTF-8") from exc
            consumed += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            yield decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise StreamBroken(f"line {newlines + 1}: the file ends inside a UTF-8 character") from exc

    def lines(self) -> Iterator[str]:
        """Lines with their line ends kept, split on "\\n" only (what csv and JSON Lines mean)."""
        pieces: list[str] = []  # the line so far; a list so a very long line costs linear time
        for text in self._text_chunks():
            parts = text.split("\n")
            if len(parts) == 1:
                if text:
                    pieces.append(text)
                continue
            pieces.append(parts[0])
            yield "".join(pieces) + "\n"
            for part in parts[1:-1]:
                yield part + "\n"
            pieces = [parts[-1]] if parts[-1] else []
        if pieces:
            yield "".join(pieces)


class ChunkStream(io.RawIOBase):
    """A binary stream over an iterator of byte chunks (the API's JSON items, one line each)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size
