"""Issue 14, target 1 (small versions): an import is parsed as a stream and written in batches to
a staging table, still all-or-nothing with the same row-level errors; duplicates are found
across batches and against earlier imports; the pool's size is kept on the project so pages
never count it. Speed and memory at a million rows are the bench's (bench/import_items.py)."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.factories import api_client
from workbench.errors import ValidationFailed
from workbench.projects import bulk
from workbench.projects.models import Item, ItemImport, Project
from workbench.projects.services import items_import
from workbench.projects.streams import ChunkStream

pytestmark = pytest.mark.django_db


def csv_pool(n: int, *, last: str | None = None) -> bytes:
    rows = [f"c{i},comment number {i}\n" for i in range(1, n + 1)]
    if last is not None:
        rows[-1] = last
    return ("external_id,text\n" + "".join(rows)).encode()


def jsonl_pool(n: int, *, last: str | None = None) -> bytes:
    rows = [json.dumps({"external_id": f"c{i}", "text": f"comment {i}"}) + "\n" for i in range(1, n + 1)]
    if last is not None:
        rows[-1] = last
    return "".join(rows).encode()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(bulk, "BATCH_ROWS", 7)
    return 7


@pytest.mark.parametrize(
    ("source", "content", "field", "message"),
    [
        ("pool.csv", csv_pool(3000, last="c3000,\n"), "text", "empty text"),
        ("pool.csv.gz", gzip.compress(csv_pool(3000, last="c3000,x,extra\n")), "(row)", "has 3 fields"),
        (
            "pool.jsonl",
            jsonl_pool(3000, last='{"external_id": "c3000", "text": 5}\n'),
            "text",
            "must be text",
        ),
        ("pool.jsonl", jsonl_pool(3000, last='{"external_id": "c3000", "te\n'), "(line)", "not valid JSON"),
    ],
)
def test_an_error_in_the_last_of_thousands_of_rows_imports_nothing_and_names_the_row(  # type: ignore[no-untyped-def]
    fake_gateway, monkeypatch, source, content, field, message
) -> None:
    monkeypatch.setattr(bulk, "BATCH_ROWS", 500)  # six batches are written before the bad row
    project = factories.project()
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source=source, content=content)
    (error,) = info.value.extra["errors"]
    assert (error["file"], error["row"], error["field"]) == (source, 3000, field)
    assert message in error["message"]
    assert f"{source}: row 3000" in info.value.message and "nothing was imported" in info.value.message
    assert Item.objects.count() == 0 and ItemImport.objects.count() == 0
    assert Project.objects.get(id=project.id).item_count == 0


def test_every_bad_row_is_reported_in_row_order_with_the_rest_counted(fake_gateway, small_batches) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    rows = "".join(f"x{i},{'' if i % 2 else 'fine ' + str(i)}\n" for i in range(1, 121))
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="odd.csv", content=f"external_id,text\n{rows}".encode())
    errors = info.value.extra["errors"]
    assert [e["row"] for e in errors] == list(range(1, 100, 2))  # the first 50 of 60
    assert info.value.extra["more"] == 10
    assert Item.objects.count() == 0


def test_duplicates_across_batch_boundaries_are_skipped_and_named(fake_gateway, small_batches) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    texts = [f"t{i}" for i in range(1, 21)] + [
        "t3",
        " t20 ",
        "t8",
        "new",
    ]  # rows 21-23 repeat rows of other batches
    content = ("text\n" + "".join(f"{t}\n" for t in texts)).encode()
    report = items_import(project=project, source="pool.csv", content=content)
    assert (report.rows, report.created, report.duplicates, report.duplicate_rows) == (
        24,
        21,
        3,
        [21, 22, 23],
    )
    stored = list(Item.objects.filter(project=project).order_by("id").values_list("data__text", flat=True))
    assert stored == [f"t{i}" for i in range(1, 21)] + ["new"]  # file order, first occurrence kept


def test_duplicates_of_earlier_imports_are_skipped_and_their_ids_refused_for_other_content(  # type: ignore[no-untyped-def]
    fake_gateway, small_batches
) -> None:
    project = factories.project()
    items_import(project=project, source="a.csv", content=csv_pool(30))
    again = items_import(project=project, source="b.csv", content=csv_pool(40))
    assert (again.created, again.duplicates, again.duplicate_rows[:3]) == (10, 30, [1, 2, 3])
    clash = b"external_id,text\nnew1,brand new\nc12,other content than c12's\nc33,also other\n"
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="c.csv", content=clash)
    assert [(e["row"], e["field"]) for e in info.value.extra["errors"]] == [
        (2, "external_id"),
        (3, "external_id"),
    ]
    assert "'c12' is already used by an item with other content" in info.value.message
    assert Item.objects.filter(project=project).count() == 40
    assert Project.objects.get(id=project.id).item_count == 40


def test_an_external_id_repeated_in_another_batch_names_both_rows(fake_gateway, small_batches) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    content = csv_pool(20, last="c2,twenty\n")
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="pool.csv", content=content)
    assert info.value.extra["errors"] == [
        {"file": "pool.csv", "row": 20, "field": "external_id", "message": "'c2' repeats row 2"}
    ]
    assert Item.objects.count() == 0


def test_ids_repeated_or_taken_inside_one_batch_are_reported_not_a_database_error(  # type: ignore[no-untyped-def]
    fake_gateway, small_batches
) -> None:
    """Kept rows reach the pool batch by batch; rows whose id repeats in their own batch or is
    taken in the pool are held back, so the checks report them instead of the unique index."""
    project = factories.project()
    items_import(project=project, source="a.csv", content=csv_pool(3))
    content = b"external_id,text\nn1,one\nn1,another\nc2,not c2's text\nn4,four\n"
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="b.csv", content=content)
    assert info.value.extra["errors"] == [
        {"file": "b.csv", "row": 2, "field": "external_id", "message": "'n1' repeats row 1"}
    ]
    clash = b"external_id,text\nn1,one\nc2,not c2's text\nc1,comment number 1\n"
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="c.csv", content=clash)
    assert [(e["row"], e["field"]) for e in info.value.extra["errors"]] == [(2, "external_id")]
    # Content held back in one batch for its id is still the first occurrence in a later batch.
    filler = "".join(f"f{i},filler {i}\n" for i in range(2, 9))
    later = f"external_id,text\nc2,same new text\n{filler}c3,same new text\n".encode()
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="d.csv", content=later)
    assert [(e["row"], e["field"]) for e in info.value.extra["errors"]] == [(1, "external_id")]
    assert Item.objects.filter(project=project).count() == 3 == ItemImport.objects.get().created_count


def test_the_service_writes_batches_while_the_file_is_still_being_read(fake_gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rows are not materialised: each batch reaches the database when only a bounded number of
    lines past it have been read (the stream's 64 KiB read-ahead), never the whole file."""
    monkeypatch.setattr(bulk, "BATCH_ROWS", 10)
    produced = 0
    seen_at_write: list[tuple[int, int]] = []

    def lines() -> Iterator[bytes]:
        nonlocal produced
        yield b"text\n"
        for i in range(2000):
            produced += 1
            yield f"{i} {'x' * 2000}\n".encode()

    original = bulk.Stage.writing

    def watched(stage: bulk.Stage):  # type: ignore[no-untyped-def]
        with original(stage) as add:

            def spy(rows):  # type: ignore[no-untyped-def]
                add(rows)
                seen_at_write.append((stage.rows, produced))

            yield spy

    monkeypatch.setattr(bulk.Stage, "writing", __import__("contextlib").contextmanager(watched))
    project = factories.project()
    report = items_import(project=project, source="big.csv", content=ChunkStream(lines()))  # type: ignore[arg-type]
    assert report.created == 2000 and len(seen_at_write) == 200
    assert max(read - written for written, read in seen_at_write) < 100  # ~2 KB lines: 64 KiB ahead


def test_progress_is_reported_per_batch(fake_gateway, small_batches) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[int, int]] = []
    content = csv_pool(50)
    items_import(
        project=factories.project(),
        source="pool.csv",
        content=io.BytesIO(content),
        progress=lambda rows, read: calls.append((rows, read)),
    )
    assert [rows for rows, _ in calls] == [7, 14, 21, 28, 35, 42, 49, 50]
    assert calls[-1][1] == len(content) and all(a[1] <= b[1] for a, b in zip(calls, calls[1:], strict=False))


def test_the_pool_size_is_kept_on_the_project_and_pages_do_not_count_the_pool(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user()
    project = factories.project(owner=owner)
    items_import(project=project, source="a.csv", content=csv_pool(25))
    items_import(project=project, source="b.csv", content=csv_pool(30))
    assert Project.objects.get(id=project.id).item_count == 30 == Item.objects.filter(project=project).count()
    client = api_client(owner)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/api/projects/{project.id}/items/?limit=10&offset=20").json()
        detail = client.get(f"/api/projects/{project.id}/").json()
    assert page["count"] == 30 and len(page["results"]) == 10
    assert (detail["item_count"], detail["pushed_count"]) == (30, 0)
    pool_counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "ls_task_id" not in q["sql"]
    ]
    assert pool_counts == []  # only the pushed items are counted (on their partial index)


def test_the_command_shows_no_progress_bar_when_stderr_is_not_a_terminal(fake_gateway, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    path = tmp_path / "pool.csv"
    path.write_bytes(csv_pool(40))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_items", project.name, str(path), stdout=out, stderr=err)
    assert "40 items imported from 40 rows" in out.getvalue()
    assert err.getvalue() == ""
    call_command("import_items", project.name, str(path), "--quiet", stdout=out, stderr=err)
    assert "0 items imported from 40 rows (40 duplicates skipped)" in out.getvalue()


def test_the_quality_overview_counts_pushed_and_answered_items_without_counting_the_pool(
    fake_gateway,
) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from workbench.annotations.models import Annotation
    from workbench.quality.selectors import overview

    project = factories.project(annotators_per_item=2)
    items_import(project=project, source="a.csv", content=csv_pool(10))
    items = list(Item.objects.filter(project=project).order_by("id"))
    Item.objects.filter(id__in=[i.id for i in items[:6]]).update(ls_task_id=F("id"), pushed_at=timezone.now())
    answers = [
        (0, 1, False),
        (0, 2, False),
        (1, 1, False),
        (1, 2, True),
        (2, 1, False),
        (2, 2, False),
        (2, 3, False),
    ]
    Annotation.objects.bulk_create(
        Annotation(
            project=project,
            item=items[i],
            ls_annotation_id=n + 1,
            ls_user_id=user,
            label="toxic",
            was_cancelled=cancelled,
            source=Annotation.Source.RECONCILE,
            synced_at=timezone.now(),
        )
        for n, (i, user, cancelled) in enumerate(answers)
    )
    counts = overview(Project.objects.get(id=project.id))
    assert {k: counts[k] for k in ("pool", "pushed", "started", "labeled", "queued")} == {
        "pool": 10,
        "pushed": 6,
        "started": 3,  # the second item's other answer was cancelled
        "labeled": 2,
        "queued": 4,
    }
