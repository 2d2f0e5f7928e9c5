"""DRF serializer fields built from ``workbench.bounds`` (the API side of one range rule)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workbench.bounds import Bound


def bounded(bound: Bound, **kwargs: Any) -> serializers.Field:
    """An IntegerField or FloatField that accepts exactly what ``bound`` accepts, documented in
    the schema with its minimum / maximum (OpenAPI 3.0's ``exclusiveMinimum`` where open)."""

    def validate(value: Any) -> None:
        problem = bound.problem(value)
        if problem is not None:
            raise serializers.ValidationError(problem)

    base = serializers.IntegerField if bound.integer else serializers.FloatField
    low: float = int(bound.low) if bound.integer else bound.low
    high: float = int(bound.high) if bound.integer else bound.high
    schema: dict[str, Any] = {
        "type": "integer" if bound.integer else "number",
        "minimum": low,
        "maximum": high,
    }
    if bound.low_open:
        schema["exclusiveMinimum"] = True
    if bound.high_open:
        schema["exclusiveMaximum"] = True
    # A class per bound: DRF copies fields per serializer by re-creating them from their class.
    field_class = extend_schema_field(schema)(type(f"Bounded{base.__name__}", (base,), {}))
    if bound.nullable:
        kwargs.setdefault("allow_null", True)
    # No min_value / max_value: ``validate`` checks the range (open ends too), and DRF's own
    # validators would make drf-spectacular drop the schema's exclusiveMinimum / exclusiveMaximum.
    return field_class(validators=[validate], **kwargs)  # type: ignore[no-any-return]
