"""The one way list endpoints paginate: limit/offset, with a maximum page size
(``API_MAX_PAGE_SIZE``) so no one fetches a whole pool in one response.

A bad ``limit`` or ``offset`` (not a plain non-negative integer, a limit of 0 or over the maximum)
is a 400 that names the parameter, not a silent default and never a database overflow (500).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from workbench.errors import ValidationFailed

# ASCII digits only: str.isdigit() and int() also take "²" or "١", which are no page numbers.
_NUMBER = re.compile(r"[0-9]{1,18}")
MAX_OFFSET = 10**18 - 1


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset pagination, strict about its two parameters. ``known_count``, when
    the caller knows the list's size (a project's pool: ``Project.item_count``), replaces the
    ``COUNT(*)`` DRF would run over the whole list for every page."""

    known_count: int | None = None

    def get_count(self, queryset: Any) -> int:
        return self.known_count if self.known_count is not None else int(super().get_count(queryset))

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> Any:
        if self.known_count is None:
            return super().paginate_queryset(queryset, request, view)
        # A large list (a pool): find the page's ids first, which a deep offset skips on an
        # index alone, then load only those rows, instead of reading every skipped row.
        page: list[Any] | None = super().paginate_queryset(
            queryset.values_list("pk", flat=True), request, view
        )
        return list(queryset.filter(pk__in=list(page))) if page else []

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        return int(settings.API_MAX_PAGE_SIZE)

    def get_limit(self, request: Request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return min(int(self.default_limit or self.max_limit), self.max_limit)
        value = _number(self.limit_query_param, raw, f"an integer from 1 to {self.max_limit}")
        if not 1 <= value <= self.max_limit:
            raise ValidationFailed(
                f"'limit' must be an integer from 1 to {self.max_limit} (API_MAX_PAGE_SIZE); got {raw}.",
                extra={"field": self.limit_query_param},
            )
        return value

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _number(self.offset_query_param, raw, f"an integer from 0 to {MAX_OFFSET}")

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_limit)
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update(minimum=0, maximum=MAX_OFFSET)
        return parameters


def _number(name: str, raw: str, wanted: str) -> int:
    if not _NUMBER.fullmatch(raw):
        raise ValidationFailed(f"'{name}' must be {wanted}; got {raw!r}.", extra={"field": name})
    return int(raw)


class PaginatedListApi(APIView):
    """Base of the list endpoints: the OpenAPI schema then documents their page envelope
    (``count``, ``next``, ``previous``, ``results``) and the limit/offset parameters."""

    pagination_class = Pagination


def paginated_response(
    request: Request,
    view: APIView,
    queryset: QuerySet[Any],
    serializer: type[BaseSerializer[Any]],
    *,
    context: dict[str, Any] | None = None,
    count: int | None = None,
) -> Response:
    """One page of ``queryset`` serialized with ``serializer``, with next/previous links;
    ``count``: the list's size if known exactly without counting it."""
    paginator = Pagination()
    paginator.known_count = count
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context or {}).data)
