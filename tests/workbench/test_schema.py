"""Issue 13, defect 8 (and issue 12): the OpenAPI schema is generated without a single
drf-spectacular warning or error, documents pages as pages, names every request body after its
endpoint, and documents the error responses in the one error shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = Path(tmp_path_factory.mktemp("schema")) / "schema.yaml"
    # --fail-on-warn raises on any warning or error the generator reports.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())  # type: ignore[no-any-return]


def _ref(response: dict[str, Any]) -> str:
    return str(response["content"]["application/json"]["schema"]["$ref"])


def test_paginated_lists_are_documented_as_pages_with_their_parameters(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/projects/{project_id}/items/"]["get"]
    page = schema["components"]["schemas"][_ref(operation["responses"]["200"]).rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 1000


def test_every_request_body_has_its_own_component(schema: dict[str, Any]) -> None:
    bodies: dict[str, str] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media["schema"].get("$ref")
                if ref and ref in bodies and not bodies[ref].startswith(path):
                    pytest.fail(f"{method} {path} shares {ref} with {bodies[ref]}")
                if ref:
                    bodies.setdefault(ref, f"{path} {method}")
    assert not any(ref.endswith("/Input") for ref in bodies)
    assert "#/components/schemas/ProjectCreateInput" in bodies


def test_error_responses_are_documented_in_the_error_shape(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["ErrorOutput"]
    assert set(error["required"]) == {"message", "code", "extra"}
    create = schema["paths"]["/api/projects/"]["post"]["responses"]
    assert {"400", "401", "403", "409", "502"} <= set(create)
    assert _ref(create["409"]) == "#/components/schemas/ErrorOutput"
    detail = schema["paths"]["/api/projects/{project_id}/"]["get"]["responses"]
    assert _ref(detail["404"]) == "#/components/schemas/ErrorOutput"
    imports = schema["paths"]["/api/projects/{project_id}/items/import/"]["post"]["responses"]
    assert "413" in imports


def test_the_gold_threshold_range_in_the_schema_is_the_open_interval(schema: dict[str, Any]) -> None:
    field = schema["components"]["schemas"]["PatchedQualitySettings"]["properties"]["gold_threshold"]
    assert field["minimum"] == 0 and field["maximum"] == 1
    assert field["exclusiveMinimum"] is True and field["exclusiveMaximum"] is True
