"""Celery adapters: ids in, one service call, the retry policy of ``workbench.retries``.
``round_run`` claims its row, so a redelivered task does nothing; ``embedding_chunk_run`` skips
cached texts and counts its chunk once."""

from workbench.retries import policy_task


@policy_task
def run_round(round_id: int) -> None:
    from workbench.rounds.services import round_run

    round_run(round_id=round_id)


@policy_task
def embed_chunk(chunk_id: int) -> None:
    from workbench.rounds.embedding_jobs import embedding_chunk_run

    embedding_chunk_run(chunk_id=chunk_id)
