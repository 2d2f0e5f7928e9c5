"""Feedback batches over the API: admins and ML engineers of the project import a batch, read
its triage report (JSON, or Markdown with ``?format=markdown``) and queue its relabel sample; an
annotator member gets 403, someone else's project 404. Thin: parse, authorize, call one service
or selector, serialize."""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.errors import ValidationFailed
from workbench.fields import bounded
from workbench.incidents import selectors, services
from workbench.incidents.markdown import report_markdown
from workbench.incidents.models import FeedbackBatch
from workbench.incidents.report import triage_report
from workbench.projects.services import import_body_check
from workbench.schema import DB_ID_MAX, error_responses


class MarkdownRenderer(BaseRenderer):
    """``?format=markdown``: the report's Markdown (errors are rendered as JSON by the view)."""

    media_type = "text/markdown"
    format = "markdown"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        text = data if isinstance(data, str) else json.dumps(data, default=str)
        return text.encode("utf-8")


class BatchOutput(serializers.ModelSerializer):
    campaign_id = serializers.IntegerField(allow_null=True)
    import_id = serializers.IntegerField(source="item_import_id")

    class Meta:
        model = FeedbackBatch
        fields = [
            "id",
            "source_name",
            "source_sha256",
            "model_version",
            "release_version",
            "note",
            "rows",
            "created_count",
            "linked_count",
            "import_id",
            "campaign_id",
            "sample",
            "created_at",
        ]


class FeedbackImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or JSONL, optionally gzipped, UTF-8")
    model_version = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=128, help_text="the deployed model"
    )
    release = serializers.IntegerField(
        required=False, min_value=1, max_value=DB_ID_MAX, help_text="the release it was trained on"
    )
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    columns = serializers.CharField(required=False, help_text='JSON object, e.g. {"text": "comment_text"}')


class SampleInput(serializers.Serializer):
    size = bounded(services.SAMPLE_BOUNDS["size"], required=False, default=services.DEFAULT_SAMPLE_SIZE)
    bins = bounded(services.SAMPLE_BOUNDS["bins"], required=False, default=services.DEFAULT_BINS)
    seed = bounded(services.SAMPLE_BOUNDS["seed"], required=False)


def _columns(raw: object) -> dict[str, str] | None:
    if raw in (None, ""):
        return None
    try:
        columns = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"columns: not a JSON object ({exc.msg}).", extra={"fields": {"columns": [exc.msg]}}
        ) from exc
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise ValidationFailed(
            "columns: must map field names to column names.",
            extra={"fields": {"columns": ["a JSON object of strings"]}},
        )
    return columns


class FeedbackListImportApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(responses=BatchOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.feedback_project_get(user=request.user, project_id=project_id)
        return Response(BatchOutput(selectors.batches_of(project), many=True).data)

    @extend_schema(
        request={"multipart/form-data": FeedbackImportInput},
        responses={201: BatchOutput, **error_responses(413)},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.feedback_project_get(user=request.user, project_id=project_id)
        import_body_check(
            content_length=request.META.get("CONTENT_LENGTH"),
            multipart=request.content_type.startswith("multipart/"),
        )
        data = FeedbackImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        batch = services.feedback_import(
            project=project,
            source=upload.name or "upload",
            content=upload,  # read as a stream, under the size limits
            model_version=data.validated_data["model_version"],
            release_version=data.validated_data.get("release"),
            note=data.validated_data["note"],
            columns=_columns(data.validated_data.get("columns")),
            created_by=cast(User, request.user),  # IsAuthenticated
        )
        return Response(BatchOutput(batch).data, status=status.HTTP_201_CREATED)


class FeedbackReportApi(APIView):
    renderer_classes = [JSONRenderer, MarkdownRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        """An error is JSON (``{"message", "code", "extra"}``) even when Markdown was asked for."""
        response = super().handle_exception(exc)
        if getattr(self.request, "accepted_renderer", None) is not None:
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "markdown"], required=False)],
        responses={(200, "application/json"): dict, (200, "text/markdown"): str},
    )
    def get(self, request: Request, project_id: int, batch_id: int) -> Response:
        project = selectors.feedback_project_get(user=request.user, project_id=project_id)
        report = triage_report(selectors.batch_get(project=project, batch_id=batch_id))
        if request.accepted_renderer.format == "markdown":
            return Response(report_markdown(report))
        return Response(report)


class FeedbackSampleApi(APIView):
    @extend_schema(request=SampleInput, responses={201: BatchOutput, **error_responses(409, 502)})
    def post(self, request: Request, project_id: int, batch_id: int) -> Response:
        """Queue the batch's stratified sample as a relabel campaign under the guideline in force."""
        project = selectors.feedback_project_get(user=request.user, project_id=project_id)
        batch = selectors.batch_get(project=project, batch_id=batch_id)
        data = SampleInput(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.feedback_sample_queue(
            batch=batch,
            size=data.validated_data["size"],
            bins=data.validated_data["bins"],
            seed=data.validated_data.get("seed"),
            created_by=cast(User, request.user),  # IsAuthenticated
        )
        return Response(BatchOutput(batch).data, status=status.HTTP_201_CREATED)
