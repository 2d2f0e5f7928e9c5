"""Issue 13, defect 3: imports are read as bounded streams. A gzip bomb or an over-limit file is
refused with 413 (naming the file and the limit) at the limit, without the file being held in
memory, and nothing is written; broken bytes answer 400."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from tests import factories
from tests.factories import api_client
from workbench.projects.importing import ImportRejected, ImportTooLarge, parse_file
from workbench.projects.models import Item, ItemImport
from workbench.projects.streams import CHUNK_BYTES

MB = 1024 * 1024


def bomb(inflated_bytes: int) -> bytes:
    """A valid CSV that gzips ~1000:1 (every row the same 1000 characters)."""
    row = b"a" * 999 + b"\n"
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as zipped:
        zipped.write(b"text\n")
        for _ in range(inflated_bytes // len(row)):
            zipped.write(row)
    return out.getvalue()


class CountingStream(io.RawIOBase):
    """A file that says how much of it was read."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def test_a_gzip_bomb_stops_at_the_decompressed_limit_without_inflating_it_in_memory() -> None:
    content = bomb(150 * MB)
    assert len(content) < 1 * MB
    tracemalloc.start()
    try:
        with pytest.raises(ImportTooLarge) as info:
            parse_file(
                kind="toxicity_binary",
                source="bomb.csv.gz",
                content=content,
                max_field_chars=20_000,
                max_file_bytes=1 * MB,
                max_decompressed_bytes=4 * MB,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.what == "decompressed"
    assert "bomb.csv.gz" in str(info.value) and "IMPORT_MAX_DECOMPRESSED_BYTES" in str(info.value)
    # The rows read before the limit (4 MB of 1000-character rows) plus one chunk, never 150 MB.
    assert peak < 24 * MB


def test_a_plain_file_over_the_limit_is_read_only_up_to_the_limit() -> None:
    stream = CountingStream(b"text\n" + b"hello there\n" * 500_000)
    with pytest.raises(ImportTooLarge) as info:
        parse_file(
            kind="toxicity_binary",
            source="big.csv",
            content=stream,  # type: ignore[arg-type]
            max_field_chars=20_000,
            max_file_bytes=1 * MB,
        )
    assert info.value.what == "file"
    assert "IMPORT_MAX_FILE_BYTES" in str(info.value)
    assert stream.bytes_read <= 1 * MB + CHUNK_BYTES


def test_bytes_that_are_not_utf8_are_found_across_chunk_boundaries() -> None:
    head = b"text\n" + b"x" * (CHUNK_BYTES - 6) + b"\n"  # the bad byte lands in the second chunk
    with pytest.raises(ImportRejected) as info:
        parse_file(
            kind="toxicity_binary", source="bad.csv", content=head + b"ok\xff\n", max_field_chars=10**6
        )
    assert info.value.errors[0].message == f"line 3: byte 0xff at offset {len(head) + 2} is not UTF-8"


def test_a_utf8_character_split_between_chunks_is_read_whole() -> None:
    head = b"text\n" + b"x" * (CHUNK_BYTES - 6)
    content = head + "é\nsecond\n".encode()  # é's two bytes straddle the first chunk's end
    assert len(head) == CHUNK_BYTES - 1
    rows = parse_file(kind="toxicity_binary", source="ok.csv", content=content, max_field_chars=10**6).rows
    assert rows[0].data["text"].endswith("xé") and rows[1].data["text"] == "second"


def test_a_line_separator_inside_a_jsonl_field_does_not_split_the_line() -> None:
    line = json.dumps({"text": "one\u2028two"}, ensure_ascii=False).encode()
    rows = parse_file(kind="toxicity_binary", source="a.jsonl", content=line, max_field_chars=100).rows
    assert rows[0].data["text"] == "one\u2028two"


@pytest.mark.django_db
def test_the_api_refuses_a_gzip_bomb_with_413_and_imports_nothing(fake_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_MAX_FILE_BYTES = 1 * MB
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 8 * MB
    owner = factories.user()
    project = factories.project(owner=owner)
    upload = SimpleUploadedFile("pool.csv.gz", bomb(150 * MB))
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert body["message"].startswith("pool.csv.gz: ")
    assert str(8 * MB) in body["message"] and "nothing was imported" in body["message"]
    assert body["extra"]["errors"][0]["file"] == "pool.csv.gz"
    assert body["extra"]["limit"] == 8 * MB
    assert Item.objects.count() == 0 and ItemImport.objects.count() == 0


@pytest.mark.django_db
def test_the_api_refuses_a_file_over_the_file_limit_with_413(fake_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_MAX_FILE_BYTES = 100 * 1024
    owner = factories.user()
    project = factories.project(owner=owner)
    upload = SimpleUploadedFile("pool.csv", b"text\n" + b"".join(b"row %d\n" % i for i in range(15_000)))
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 413
    assert "pool.csv" in response.json()["message"] and "IMPORT_MAX_FILE_BYTES" in response.json()["message"]
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_the_api_refuses_a_json_body_over_the_limit_before_parsing_it(fake_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_MAX_JSON_BODY_BYTES = 10 * 1024
    owner = factories.user()
    project = factories.project(owner=owner)
    items = [{"text": f"comment {i} " + "x" * 100} for i in range(2000)]
    response = api_client(owner).post(
        f"/api/projects/{project.id}/items/import/", {"items": items}, format="json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "IMPORT_MAX_JSON_BODY_BYTES" in response.json()["message"]
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_json_items_are_held_to_the_decompressed_limit_too(fake_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 5 * 1024
    owner = factories.user()
    project = factories.project(owner=owner)
    items = [{"text": f"comment {i} " + "x" * 100} for i in range(100)]
    response = api_client(owner).post(
        f"/api/projects/{project.id}/items/import/", {"items": items}, format="json"
    )
    assert response.status_code == 413
    assert response.json()["message"].startswith("request.jsonl: ")
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_a_truncated_gzip_is_a_400_that_names_the_file(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user()
    project = factories.project(owner=owner)
    content = gzip.compress(b"text\n" + b"".join(b"hello %d\n" % i for i in range(5000)))
    upload = SimpleUploadedFile("pool.csv.gz", content[: len(content) // 2])
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 400
    assert response.json()["message"].startswith("pool.csv.gz: ")
    assert "broken gzip" in response.json()["message"]
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_the_import_command_refuses_a_gzip_bomb_and_imports_nothing(  # type: ignore[no-untyped-def]
    fake_gateway, settings, tmp_path: Path
) -> None:
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 2 * MB
    project = factories.project(owner=factories.user())
    path = tmp_path / "pool.csv.gz"
    path.write_bytes(bomb(50 * MB))
    with pytest.raises(CommandError) as info:
        call_command("import_items", project.name, str(path))
    assert "pool.csv.gz" in str(info.value) and str(2 * MB) in str(info.value)
    assert Item.objects.count() == 0 and ItemImport.objects.count() == 0


@pytest.mark.django_db
def test_a_gzipped_file_under_the_limits_is_imported_with_the_raw_files_sha256(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    owner = factories.user()
    project = factories.project(owner=owner)
    content = gzip.compress(b"text,label\nfirst,toxic\nsecond,non-toxic\n")
    upload = SimpleUploadedFile("pool.csv.gz", content)
    response = api_client(owner).post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2
    assert ItemImport.objects.get().source_sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.django_db
def test_an_over_limit_upload_is_refused_before_django_parses_it_even_for_a_csrf_check(  # type: ignore[no-untyped-def]
    fake_gateway, settings
) -> None:
    from rest_framework.test import APIClient

    settings.IMPORT_MAX_FILE_BYTES = 100 * 1024
    owner = factories.user()
    project = factories.project(owner=owner)
    # A session with CSRF checks on: the check reads the form (and so the upload) before the view.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    client.cookies[settings.CSRF_COOKIE_NAME] = "k" * 32  # so the check goes on to read the form
    upload = SimpleUploadedFile("pool.csv", b"text\n" + b"x" * (400 * 1024) + b"\n")
    response = client.post(f"/api/projects/{project.id}/items/import/", {"file": upload})
    assert response.status_code == 413
    assert "IMPORT_MAX_FILE_BYTES" in response.json()["message"]
    assert Item.objects.count() == 0


def test_the_decompressed_limit_follows_the_file_limit_by_default() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "IMPORT_MAX_FILE_BYTES": str(1 * MB)}
    env.pop("IMPORT_MAX_DECOMPRESSED_BYTES", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from workbench import settings; print(settings.IMPORT_MAX_DECOMPRESSED_BYTES)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == 5 * MB
