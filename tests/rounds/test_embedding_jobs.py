"""Embeddings as items arrive: an import is chunked into Celery tasks (run eagerly here; the real
worker processes are in tests/integration/test_embedding_workers.py), each chunk counted once,
``embed_items`` re-enqueues what the cache lacks, a round embeds only what is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.fakes import FakeGateway
from tests.rounds.helpers import annotate_with_gold, toxicity_pool
from workbench.accounts.models import Role
from workbench.projects.models import Item
from workbench.projects.services import items_import_records, project_member_add
from workbench.rounds import embeddings
from workbench.rounds.embedding_jobs import chunk_bounds, embedding_chunk_run
from workbench.rounds.models import EmbeddingChunk, EmbeddingProgress
from workbench.rounds.selectors import embedding_progress
from workbench.rounds.services import round_config_update, round_run, round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_gateway")]


@pytest.fixture
def on_import(settings):  # type: ignore[no-untyped-def]
    settings.EMBED_ON_IMPORT = True
    settings.EMBEDDING_CHUNK_SIZE = 7
    return settings


def cached_keys() -> np.ndarray:
    """Every key in the cache's shards, duplicates included."""
    cache = embeddings.cache_of(embeddings.featurizer())
    return np.concatenate([np.load(p) for p in sorted(cache.directory.glob("*.keys.npy"))])


def more_items(project, n: int) -> None:  # type: ignore[no-untyped-def]
    """n more items, with texts and external ids of their own."""
    items_import_records(
        project=project,
        records=[{"text": f"a later comment {i}", "external_id": f"later-{i}"} for i in range(n)],
    )


def texts_of(project) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        d["text"] for d in Item.objects.filter(project=project).order_by("id").values_list("data", flat=True)
    ]


def test_chunk_bounds_split_ascending_ids_into_runs_of_the_chunk_size() -> None:
    assert chunk_bounds([3, 4, 9, 10, 11], 2) == [(3, 4, 2), (9, 10, 2), (11, 11, 1)]
    assert chunk_bounds([], 5) == []
    with pytest.raises(ValueError, match="EMBEDDING_CHUNK_SIZE must be at least 1"):
        chunk_bounds([1], 0)


def test_an_import_enqueues_chunks_that_embed_every_item_once_and_count_it(
    on_import, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    with django_capture_on_commit_callbacks(execute=True):
        toxicity_pool(project, 30)

    chunks = list(EmbeddingChunk.objects.filter(project=project).order_by("first_item_id"))
    assert [c.size for c in chunks] == [7, 7, 7, 7, 2]
    assert all(c.done_at is not None and c.computed == c.size for c in chunks)
    progress = embedding_progress(project)
    assert (progress.embedded, progress.total, progress.chunks, progress.chunks_done) == (30, 30, 5, 5)
    assert progress.model_id == embeddings.featurizer().model_id
    keys = cached_keys()
    assert len(keys) == len(np.unique(keys)) == 30  # one row per item, none twice
    import active_learning as al

    assert set(keys.tolist()) == set(al.content_keys(texts_of(project)).tolist())


def test_a_chunk_run_twice_is_counted_once_and_encodes_nothing_the_second_time(
    on_import, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    on_import.EMBED_ON_IMPORT = False  # chunks made by hand below
    project = factories.project()
    toxicity_pool(project, 10)
    on_import.EMBED_ON_IMPORT = True
    with django_capture_on_commit_callbacks(execute=False):
        from workbench.rounds.embedding_jobs import embedding_enqueue_missing

        embedding_enqueue_missing(project=project)  # enqueued on commit: not run here
    first = EmbeddingChunk.objects.filter(project=project).order_by("id").first()
    assert first is not None and first.done_at is None

    assert embedding_chunk_run(chunk_id=first.id) == 7
    assert embedding_chunk_run(chunk_id=first.id) is None  # a redelivered task
    EmbeddingChunk.objects.filter(id=first.id).update(done_at=None)  # as if killed before the claim
    assert embedding_chunk_run(chunk_id=first.id) == 0  # redone: everything was cached
    row = EmbeddingProgress.objects.get(project=project)
    assert (row.embedded, row.chunks_done, row.total) == (14, 2, 10)  # counted per claim; shown capped
    assert embedding_progress(project).embedded == 10
    assert embedding_chunk_run(chunk_id=10**9) is None  # a chunk that is gone


def test_embed_items_enqueues_only_the_chunks_with_texts_missing_from_the_cache(
    on_import, django_capture_on_commit_callbacks, settings, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    with django_capture_on_commit_callbacks(execute=True):
        toxicity_pool(project, 14)  # two chunks, both embedded
        more_items(project, 3)  # a third chunk
    assert embedding_progress(project).embedded == 17

    with django_capture_on_commit_callbacks(execute=False) as queued:
        call_command("embed_items", str(project.id))
    assert queued == []  # every text is cached: nothing to enqueue
    assert "embedded 17 of 17 items (3 of 3 chunks done" in capsys.readouterr().out

    settings.EMBEDDINGS_DIR = tmp_path / "other-cache"  # a new cache: everything is missing
    with django_capture_on_commit_callbacks(execute=True) as queued:
        call_command("embed_items", project.name)
    assert len(queued) == 1  # one callback enqueueing the chunks
    assert EmbeddingChunk.objects.filter(project=project, computed__gt=0).count() == 3
    call_command("embed_items", project.name, "--status")
    assert "embedded 17 of 17 items (3 of 3 chunks done" in capsys.readouterr().out


def test_embed_items_names_an_unknown_project() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No project named or numbered 'nope'"):
        call_command("embed_items", "nope")


def test_nothing_is_enqueued_on_import_when_embed_on_import_is_off(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.EMBED_ON_IMPORT = False
    project = factories.project()
    with django_capture_on_commit_callbacks(execute=True):
        toxicity_pool(project, 5)
    assert not EmbeddingChunk.objects.filter(project=project).exists()
    assert embedding_progress(project).total == 0


def test_a_round_embeds_only_what_is_missing_and_records_how_many(
    fake_gateway: FakeGateway, on_import, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    on_import.EMBED_ON_IMPORT = False
    project = factories.project()
    toxicity_pool(project, 40)
    round_config_update(project=project, validation_percent=0)
    annotate_with_gold(list(Item.objects.filter(project=project).order_by("id")[:12]))

    first = round_start(project=project, trigger="api", strategy="margin", batch_size=4, seed=1)
    round_run(round_id=first.id)
    first.refresh_from_db()
    assert first.status == "done", first.error
    assert first.parameters["embedded"] == 40  # nothing was cached: the round embedded the pool

    on_import.EMBED_ON_IMPORT = True
    with django_capture_on_commit_callbacks(execute=True):
        more_items(project, 9)  # embedded by the chunk jobs as they arrive
    second = round_start(project=project, trigger="api", strategy="margin", batch_size=4, seed=2)
    round_run(round_id=second.id)
    second.refresh_from_db()
    assert second.status == "done", second.error
    assert second.parameters["embedded"] == 0
    assert second.pool_size == first.pool_size + 9


def test_progress_is_on_the_api_for_members_only_and_on_the_rounds_page(
    on_import, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user()
    project = factories.project(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        toxicity_pool(project, 9)
    annotator = factories.user(Role.ANNOTATOR)
    project_member_add(project=project, user=annotator)

    body = factories.api_client(annotator).get(f"/api/projects/{project.id}/embeddings/").json()
    assert (body["embedded"], body["total"], body["chunks"], body["chunks_done"]) == (9, 9, 2, 2)
    stranger = factories.api_client(factories.user(Role.ML_ENGINEER))
    assert stranger.get(f"/api/projects/{project.id}/embeddings/").status_code == 404

    client = Client()
    client.force_login(owner)
    page = client.get(f"/rounds/projects/{project.id}/").content.decode()
    assert "embedded 9 of 9 items (2 of 2 chunks" in page
