"""The OpenAPI schema's error responses: every operation documents the errors it can answer, in
the one error shape ``{"message", "code", "extra"}`` that ``workbench.errors`` renders.

``WorkbenchAutoSchema`` adds the errors every operation of a kind can give (401/403 behind a
token, 404 with an id in the path, 400 with a body or query parameters); a view declares the
rest (409, 413, 502) with ``error_responses(...)`` in its ``extend_schema(responses=...)``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Ids are bigint (BigAutoField): a larger number can name no row, and would overflow the query.
DB_ID_MAX = 2**63 - 1


class ErrorOutput(serializers.Serializer):
    message = serializers.CharField(help_text="what is wrong, naming the field, file or row")
    code = serializers.CharField(help_text="e.g. invalid, not_found, forbidden, conflict, too_large")
    extra = serializers.DictField(help_text="details, e.g. {'fields': {...}} or {'errors': [...]}")


DESCRIPTIONS = {
    400: "bad input; the message (and extra) names the field",
    401: "no token or session, or a wrong one",
    403: "your role may not do this",
    404: "no such object, or not yours (someone else's project answers 404, not 403)",
    409: "conflicts with the current state (e.g. a name taken, a round already running)",
    413: "a file or body over a size limit; the message names the limit",
    415: "a body in a media type the operation does not take (JSON, or multipart for a file)",
    502: "Label Studio refused the call or is unreachable",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses={200: X, **error_responses(409)})``."""
    return {code: OpenApiResponse(ErrorOutput, DESCRIPTIONS[code]) for code in codes}


class WorkbenchAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation["responses"]
        for code in self._error_codes(operation):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(  # type: ignore[no-untyped-call]  # untyped upstream
                    OpenApiResponse(ErrorOutput, DESCRIPTIONS[code]), str(code)
                )
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[int]:
        codes: list[int] = []
        parameters = operation.get("parameters", [])
        takes_input = "requestBody" in operation or any(p["in"] in ("query", "header") for p in parameters)
        if takes_input:
            codes.append(400)
        if "requestBody" in operation:
            codes.append(415)
        if not any(isinstance(p, type) and issubclass(p, AllowAny) for p in self.view.permission_classes):
            codes += [401, 403]
        if any(p["in"] == "path" for p in parameters):
            codes.append(404)
        return codes


def project_kind_choices() -> list[tuple[str, str]]:
    """The project kinds as the API lists them (for SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES)."""
    from workbench.projects.kinds import Kind

    return [(k.value, k.value) for k in Kind]
