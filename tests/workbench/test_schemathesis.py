"""Issue 13, "Tests to keep": schemathesis against ``/api/schema/`` with an admin token.

Every operation in the schema gets generated requests, valid (positive) and invalid (negative),
sent in-process through the workbench's WSGI application on PostgreSQL; half of them aim at real
objects (a project with items, annotations, a quality run, label issues, a round, a release) so
they reach the code behind the 404s. Each response must pass schemathesis's checks: no server
error (5xx), a documented status code and content type, and a body that matches the documented
schema. The run is bounded by example counts (no time limit, no timing assertion) and
derandomized, so it sends the same requests on every run.

Label Studio calls inside the endpoints go to the in-memory fake gateway (``fake_gateway``): the
point here is the workbench's own validation and schema, which the fake does not change; the real
Label Studio is exercised by the integration tests.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.quality.helpers import annotate, annotators, separable_items
from workbench.accounts.models import Role
from workbench.quality.models import LabelIssue
from workbench.quality.services import quality_compute
from workbench.releases.services import release_create
from workbench.rounds.services import round_start
from workbench.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests run inside the test's transaction: like Django's test client, don't let the
    request signals close the connection that holds it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def real_ids(fake_gateway, settings, tmp_path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    project = factories.project(annotators_per_item=3)
    items = separable_items(project, 30)
    annotate(project, items, annotators(3), [0.0, 0.1, 0.4], flipped={items[3].id, items[17].id}, seed=4)
    quality_compute(project=project)
    round_ = round_start(project=project, trigger="api", strategy="random", batch_size=5)
    release_create(project=project, created_by=None)
    issue = LabelIssue.objects.filter(project=project).first()
    return {
        "project_id": project.id,
        "round_id": round_.id,
        "version": 1,
        "issue_id": issue.id if issue else 1,
    }


def test_the_api_answers_every_generated_request_as_its_schema_says(  # type: ignore[no-untyped-def]
    in_process_requests, real_ids
) -> None:
    admin = factories.user(Role.ADMIN)
    headers = {"Authorization": f"Token {admin.auth_token.key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    sent: Counter[str] = Counter()
    failures: list[str] = []
    no_negative: list[str] = []

    def run(operation: Any, mode: GenerationMode) -> None:
        @hypothesis.settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), aim_at_real_objects=st.booleans())
        def send(case: Any, aim_at_real_objects: bool) -> None:
            if aim_at_real_objects and case.path_parameters:
                case.path_parameters = {
                    name: real_ids.get(name, value) for name, value in case.path_parameters.items()
                }
            response = case.call(headers=headers)
            sent[operation.label] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # a failed check: report them all at the end
                failures.append(
                    f"{operation.label} [{mode}] {case.path_parameters} query={case.query} "
                    f"body={json.dumps(case.body, default=str)[:200]} -> {response.status_code} "
                    f"{response.text[:300]}\n    {type(exc).__name__}: {str(exc)[:600]}"
                )

        try:
            send()
        except hypothesis.errors.Unsatisfiable:
            # Only an operation that takes no input at all has no invalid request to send.
            assert mode is GenerationMode.NEGATIVE, operation.label
            no_negative.append(operation.label)

    for operation in operations:
        for mode in EXAMPLES:
            run(operation, mode)

    print(
        f"\nschemathesis: {len(operations)} operations, {sum(sent.values())} requests, "
        f"{len(failures)} failures; no invalid input possible for {no_negative}"
    )
    assert len(operations) >= 30
    assert all(sent[op.label] > 0 for op in operations)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
