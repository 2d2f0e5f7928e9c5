"""Thin views: parse, authorize, call one service or selector, serialize."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.accounts.selectors import can_manage_projects
from workbench.bounds import Bound
from workbench.errors import Forbidden, ValidationFailed
from workbench.fields import bounded
from workbench.projects.selectors import project_get
from workbench.releases import selectors, services
from workbench.releases.http import file_response
from workbench.releases.models import Release
from workbench.releases.records import FilterPolicy
from workbench.schema import error_responses

VERSION_BOUND = Bound(1, 2**31 - 1, integer=True)

CONTENT_TYPES = {
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
}


class FileOutput(serializers.Serializer):
    path = serializers.CharField()
    format = serializers.CharField()
    split = serializers.CharField(allow_null=True)
    rows = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()


class ReleaseOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by_name")
    files = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "version",
            "tag",
            "status",
            "created_by",
            "created_at",
            "finished_at",
            "label_config_sha256",
            "guideline_version",
            "last_round_id",
            "model_version",
            "filter_policy",
            "split_ratios",
            "formats",
            "record_count",
            "excluded",
            "error",
            "manifest_sha256",
            "files",
        ]

    @extend_schema_field(FileOutput(many=True))
    def get_files(self, release: Release) -> list[dict[str, Any]]:
        return list(release.manifest["files"]) if release.manifest else []


class ReleaseDetailOutput(ReleaseOutput):
    manifest = serializers.JSONField()
    datasheet = serializers.SerializerMethodField()

    class Meta(ReleaseOutput.Meta):
        fields = [*ReleaseOutput.Meta.fields, "manifest", "datasheet"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_datasheet(self, release: Release) -> str | None:
        return selectors.release_datasheet(release=release)


class ReleaseCreateInput(serializers.Serializer):
    tag = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    min_annotators = bounded(services.RELEASE_BOUNDS["min_annotators"], default=1)
    min_quality = bounded(services.RELEASE_BOUNDS["min_quality"], required=False)
    exclude_open_label_issues = serializers.BooleanField(default=True)
    # Absent: the project's quality setting (``consensus_method``).
    consensus_method = serializers.CharField(required=False)
    guideline_versions = serializers.ChoiceField(
        list(services.GUIDELINE_CHOICES),
        default="all",
        help_text="current: only answers made under the guideline version in force",
    )
    split_ratios = serializers.DictField(child=serializers.FloatField(), required=False)
    formats = serializers.ListField(
        child=serializers.CharField(), required=False, allow_empty=False, max_length=len(services.ALL_FORMATS)
    )


class ReleaseListCreateApi(APIView):
    @extend_schema(responses=ReleaseOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        releases = selectors.releases_of(user=request.user, project_id=project_id)
        return Response(ReleaseOutput(releases, many=True).data)

    @extend_schema(request=ReleaseCreateInput, responses={202: ReleaseOutput, **error_responses(409)})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get(user=request.user, project_id=project_id)
        if not can_manage_projects(request.user):
            raise Forbidden("Only admins and ML engineers can create releases.")
        data = ReleaseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        release = services.release_create(
            project=project,
            created_by=cast(User, request.user),  # IsAuthenticated
            tag=given["tag"],
            policy=FilterPolicy(
                min_annotators=given["min_annotators"],
                min_quality=given.get("min_quality"),
                exclude_open_label_issues=given["exclude_open_label_issues"],
                consensus_method=given.get("consensus_method"),
                guideline_versions=given["guideline_versions"],
            ),
            split_ratios=given.get("split_ratios"),
            formats=given.get("formats"),
        )
        release.refresh_from_db()  # eager Celery may have built it already
        return Response(ReleaseOutput(release).data, status=status.HTTP_202_ACCEPTED)


class ReleaseDetailApi(APIView):
    @extend_schema(responses=ReleaseDetailOutput)
    def get(self, request: Request, project_id: int, version: int) -> Response:
        release = selectors.release_get(user=request.user, project_id=project_id, version=version)
        return Response(ReleaseDetailOutput(release).data)


class ReleaseDownloadApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "file", str, description="a path from the manifest, or manifest.json", required=True
            ),
            OpenApiParameter("Range", str, OpenApiParameter.HEADER, description="bytes=START-[END]"),
            OpenApiParameter("If-Range", str, OpenApiParameter.HEADER),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, "the requested range"),
            304: OpenApiResponse(description="not modified (ETag is the file's sha256)"),
            416: OpenApiResponse(description="range not satisfiable"),
        },
    )
    def get(self, request: Request, project_id: int, version: int) -> HttpResponseBase:
        name = request.query_params.get("file", "")
        if not name:
            raise ValidationFailed("Give the file to download: ?file=<path from the manifest>.")
        release = selectors.release_get(user=request.user, project_id=project_id, version=version)
        path, sha256 = selectors.release_file(release=release, name=name)
        content_type = CONTENT_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream")
        return file_response(request, path, sha256, content_type=content_type)


class DiffOutput(serializers.Serializer):
    old_version = serializers.CharField()
    new_version = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    relabel_transitions = serializers.DictField(child=serializers.IntegerField())
    attribution = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="per relabel campaign ('campaign <id>'): its items changed, unchanged, added",
    )
    relabeled_unattributed = serializers.IntegerField(help_text="relabels no campaign caused")
    files = FileOutput(many=True)


class DiffQuery(serializers.Serializer):
    # Plain ASCII digits: "²".isdigit() is true but int("²") is not a number.
    from_ = bounded(VERSION_BOUND, help_text="the older version")
    to = bounded(VERSION_BOUND, help_text="the newer version")
    list = serializers.ChoiceField(
        choices=["csv", "jsonl"], required=False, help_text="download the change list"
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields


class ReleaseDiffApi(APIView):
    @extend_schema(
        parameters=[DiffQuery],
        responses={
            200: OpenApiResponse(DiffOutput, "the summary; with ?list=csv|jsonl, the change list as a file")
        },
    )
    def get(self, request: Request, project_id: int) -> HttpResponseBase:
        query = DiffQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        versions = [query.validated_data["from"], query.validated_data["to"]]
        old, new = (
            selectors.release_get(user=request.user, project_id=project_id, version=v) for v in versions
        )
        summary, folder = services.release_diff(old=old, new=new)
        listing = query.validated_data.get("list")
        if listing is None:
            return Response(summary)
        entry = next(f for f in summary["files"] if f["format"] == listing)
        return file_response(
            request, folder / entry["path"], entry["sha256"], content_type=CONTENT_TYPES[f".{listing}"]
        )
