"""The one way list endpoints paginate: the class configured in REST_FRAMEWORK's
DEFAULT_PAGINATION_CLASS (limit/offset)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView


def paginated_response(
    request: Request, view: APIView, queryset: QuerySet[Any], serializer: type[BaseSerializer[Any]]
) -> Response:
    """One page of ``queryset`` serialized with ``serializer``, with next/previous links."""
    # api_settings imports the dotted path; the stubs only know the setting's string type.
    paginator = cast(type[BasePagination], api_settings.DEFAULT_PAGINATION_CLASS)()
    page = paginator.paginate_queryset(queryset, request, view=view)
    response: Response = paginator.get_paginated_response(serializer(page, many=True).data)
    return response
