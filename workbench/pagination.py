"""The one way list endpoints paginate: the class configured in REST_FRAMEWORK's
DEFAULT_PAGINATION_CLASS (limit/offset)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView


def paginated_response(
    request: Request, view: APIView, queryset: QuerySet[Any], serializer: type[BaseSerializer[Any]]
) -> Response:
    """One page of ``queryset`` serialized with ``serializer``, with next/previous links."""
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)
