"""The workbench's one error vocabulary, and the DRF handler that renders every error as
``{"message", "code", "extra"}``.

Services raise these; only ``apis.py`` modules know about DRF.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from workbench.labelstudio.types import LabelStudioError


class WorkbenchError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ValidationFailed(WorkbenchError):
    code = "invalid"


class NotFound(WorkbenchError):
    status = 404
    code = "not_found"


class Forbidden(WorkbenchError):
    status = 403
    code = "forbidden"


class Conflict(WorkbenchError):
    status = 409
    code = "conflict"


class PayloadTooLarge(WorkbenchError):
    """A file or request body over a configured size limit (the message names the limit)."""

    status = 413
    code = "too_large"


class UpstreamUnavailable(WorkbenchError):
    """Label Studio (or another service we depend on) failed.

    ``permanent`` says whether repeating the same request can help (a timeout or a 5xx can, a
    refusal cannot); Celery tasks retry only what is not permanent (``workbench.retries``).
    """

    status = 502
    code = "upstream_error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None, permanent: bool = False) -> None:
        super().__init__(message, extra=extra)
        self.permanent = permanent


def upstream_error(
    exc: LabelStudioError, context: str, *, extra: dict[str, Any] | None = None
) -> UpstreamUnavailable:
    """A Label Studio error in the workbench's vocabulary, keeping whether a retry can help.

    The one translation at the gateway boundary: services write
    ``raise upstream_error(exc, "Label Studio refused the project") from exc``.
    """
    details = {"upstream_status": exc.status, "permanent": exc.permanent, **(extra or {})}
    return UpstreamUnavailable(f"{context}: {exc.message}", extra=details, permanent=exc.permanent)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, WorkbenchError):
        return Response({"message": exc.message, "code": exc.code, "extra": exc.extra}, status=exc.status)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        message, extra = str(detail["detail"]), {}
    else:
        message, extra = "The request is not valid.", {"fields": detail}
    response.data = {"message": message, "code": exc.default_code, "extra": extra}
    return response
