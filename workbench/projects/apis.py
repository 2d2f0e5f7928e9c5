"""Thin views: parse, authorize, call one service or selector, serialize."""

import json
from dataclasses import asdict
from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.accounts.selectors import can_manage_projects
from workbench.errors import Forbidden, ValidationFailed
from workbench.pagination import paginated_response
from workbench.projects import selectors, services
from workbench.projects.kinds import Kind
from workbench.projects.models import Project


def managed_project(request: Request, project_id: int) -> Project:
    """The project, if the user may see it AND manage it (admins and ML engineers)."""
    project = selectors.project_get(user=request.user, project_id=project_id)
    if not can_manage_projects(request.user):
        raise Forbidden("Only admins and ML engineers can change a project.")
    return project


class ProjectOutput(serializers.ModelSerializer):
    item_count = serializers.IntegerField(read_only=True)
    pushed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "annotators_per_item",
            "label_config_name",
            "label_config_sha256",
            "ls_project_id",
            "item_count",
            "pushed_count",
            "created_at",
        ]


class ProjectListCreateApi(APIView):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=[k.value for k in Kind])
        annotators_per_item = serializers.IntegerField(min_value=1, max_value=50, default=1)
        description = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses=ProjectOutput(many=True))
    def get(self, request: Request) -> Response:
        projects = selectors.projects_visible_to(request.user)
        return Response(ProjectOutput(projects, many=True).data)

    @extend_schema(request=Input, responses={201: ProjectOutput})
    def post(self, request: Request) -> Response:
        if not can_manage_projects(request.user):
            raise Forbidden("Only admins and ML engineers can create projects.")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(created_by=cast(User, request.user), **data.validated_data)
        project = selectors.project_get(user=request.user, project_id=project.id)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        return Response(ProjectOutput(project).data)


class ProjectMemberAddApi(APIView):
    class Input(serializers.Serializer):
        user_id = serializers.IntegerField()

    @extend_schema(request=Input, responses={204: None})
    def post(self, request: Request, project_id: int) -> Response:
        from django.contrib.auth import get_user_model

        project = managed_project(request, project_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(id=data.validated_data["user_id"]).first()
        if user is None:
            raise ValidationFailed(f"No user has id {data.validated_data['user_id']}.")
        services.project_member_add(project=project, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportOutput(serializers.Serializer):
    import_id = serializers.IntegerField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    duplicate_rows = serializers.ListField(child=serializers.IntegerField())
    near_identical = serializers.IntegerField()
    near_identical_rows = serializers.ListField(child=serializers.DictField())


class ItemImportApi(APIView):
    """Import a CSV / JSONL file (multipart field ``file``) or a JSON list of items."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class JsonInput(serializers.Serializer):
        items = serializers.ListField(child=serializers.DictField(), allow_empty=False)
        columns = serializers.DictField(child=serializers.CharField(), required=False)

    @extend_schema(request=JsonInput, responses={201: ImportOutput})
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        upload = request.FILES.get("file")
        if upload is not None:
            columns = _columns(cast(dict[str, Any], request.data).get("columns"))  # a multipart form
            report = services.items_import(
                project=project,
                source=upload.name,
                content=upload.read(),
                columns=columns,
                created_by=cast(User, request.user),  # IsAuthenticated
            )
        else:
            data = self.JsonInput(data=request.data)
            data.is_valid(raise_exception=True)
            report = services.items_import_records(
                project=project,
                records=data.validated_data["items"],
                columns=data.validated_data.get("columns"),
                created_by=cast(User, request.user),  # IsAuthenticated
            )
        return Response(ImportOutput(asdict(report)).data, status=status.HTTP_201_CREATED)


def _columns(raw: object) -> dict[str, str] | None:
    if raw in (None, ""):
        return None
    try:
        columns = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"'columns' must be a JSON object: {exc.msg}") from exc
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise ValidationFailed("'columns' must map field names to column names.")
    return columns


class ItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]  # the metaclass moves fields off the class
    metadata = serializers.JSONField()
    gold = serializers.JSONField()
    ls_task_id = serializers.IntegerField(allow_null=True)
    pushed_at = serializers.DateTimeField(allow_null=True)


class ItemListApi(APIView):
    @extend_schema(responses=ItemOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:

        project = selectors.project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.items_of(project), ItemOutput)


class ItemPushApi(APIView):
    class Input(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(request=Input, responses={200: serializers.DictField()})
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        pushed = services.items_push(project=project, limit=data.validated_data.get("limit"))
        return Response({"pushed": pushed})
