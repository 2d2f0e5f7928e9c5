"""Thin views: parse, authorize, call one service or selector, serialize."""

import json
from dataclasses import asdict
from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.accounts.selectors import can_manage_projects, can_see_gold
from workbench.audits.selectors import import_group_counts
from workbench.errors import Forbidden, ValidationFailed
from workbench.labelstudio.types import PROJECT_TITLE_MAX_CHARS, PROJECT_TITLE_MIN_CHARS
from workbench.pagination import PaginatedListApi, paginated_response
from workbench.projects import selectors, services
from workbench.projects.kinds import SPECS, Kind
from workbench.projects.models import Project
from workbench.schema import DB_ID_MAX, error_responses

# Every config some kind offers; project_create checks that it is one of the chosen kind's.
LABEL_CONFIGS = sorted({name for spec in SPECS.values() for name in spec.config_names})


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


class ProjectCreateInput(serializers.Serializer):
    # The name is also the Label Studio project's title, which Label Studio holds to 3..50 characters.
    name = serializers.CharField(min_length=PROJECT_TITLE_MIN_CHARS, max_length=PROJECT_TITLE_MAX_CHARS)
    kind = serializers.ChoiceField(choices=[k.value for k in Kind])
    annotators_per_item = serializers.IntegerField(min_value=1, max_value=50, default=1)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    label_config = serializers.ChoiceField(
        choices=LABEL_CONFIGS,
        required=False,
        allow_null=True,
        default=None,
        help_text="the labeling config (default: the kind's first); preference projects may choose "
        "preference_graded.xml, a 7-point scale whose answers carry a strength",
    )


class ProjectListCreateApi(APIView):
    @extend_schema(responses=ProjectOutput(many=True))
    def get(self, request: Request) -> Response:
        projects = selectors.projects_visible_to(request.user)
        return Response(ProjectOutput(projects, many=True).data)

    @extend_schema(request=ProjectCreateInput, responses={201: ProjectOutput, **error_responses(409, 502)})
    def post(self, request: Request) -> Response:
        if not can_manage_projects(request.user):
            raise Forbidden("Only admins and ML engineers can create projects.")
        data = ProjectCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(created_by=cast(User, request.user), **data.validated_data)
        project = selectors.project_get(user=request.user, project_id=project.id)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        return Response(ProjectOutput(project).data)


class MemberAddInput(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=DB_ID_MAX)


class ProjectMemberAddApi(APIView):
    @extend_schema(request=MemberAddInput, responses={204: None})
    def post(self, request: Request, project_id: int) -> Response:
        from django.contrib.auth import get_user_model

        project = managed_project(request, project_id)
        data = MemberAddInput(data=request.data)
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
    identity_groups = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="items of this import mentioning each identity group; null while a worker assigns "
        "them (then GET /api/projects/{id}/audits/identity/)",
    )


class ItemImportJsonInput(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField(), allow_empty=False)
    columns = serializers.DictField(child=serializers.CharField(), required=False)


class ItemImportFileInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or JSONL, optionally gzipped, UTF-8")
    columns = serializers.CharField(required=False, help_text='JSON object, e.g. {"text": "comment_text"}')


class ItemImportApi(APIView):
    """Import a CSV / JSONL file (multipart field ``file``) or a JSON list of items."""

    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"application/json": ItemImportJsonInput, "multipart/form-data": ItemImportFileInput},
        responses={201: ImportOutput, **error_responses(413)},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        services.import_body_check(
            content_length=request.META.get("CONTENT_LENGTH"),
            multipart=request.content_type.startswith("multipart/"),
        )
        upload = request.FILES.get("file")
        if upload is not None:
            columns = _columns(cast(dict[str, Any], request.data).get("columns"))  # a multipart form
            report = services.items_import(
                project=project,
                source=upload.name or "upload",
                content=upload,  # read as a stream, under the size limits
                columns=columns,
                created_by=cast(User, request.user),  # IsAuthenticated
            )
        else:
            data = ItemImportJsonInput(data=request.data)
            data.is_valid(raise_exception=True)
            report = services.items_import_records(
                project=project,
                records=data.validated_data["items"],
                columns=data.validated_data.get("columns"),
                created_by=cast(User, request.user),  # IsAuthenticated
            )
        groups = import_group_counts(import_id=report.import_id)  # computed at commit without a broker
        body = {**asdict(report), "identity_groups": groups}
        return Response(ImportOutput(body).data, status=status.HTTP_201_CREATED)


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
    gold = serializers.JSONField(
        required=False, allow_null=True, help_text="the gold label; only admins and ML engineers get it"
    )
    ls_task_id = serializers.IntegerField(allow_null=True)
    pushed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("with_gold"):
            del data["gold"]
        return data


class ItemListApi(PaginatedListApi):
    @extend_schema(responses=ItemOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        context = {"with_gold": can_see_gold(request.user)}
        items = selectors.items_of(project)
        return paginated_response(request, self, items, ItemOutput, context=context, count=project.item_count)


class ItemPushInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=DB_ID_MAX, required=False)


class ItemPushOutput(serializers.Serializer):
    pushed = serializers.IntegerField()


class ItemPushApi(APIView):
    @extend_schema(request=ItemPushInput, responses={200: ItemPushOutput, **error_responses(502)})
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = ItemPushInput(data=request.data)
        data.is_valid(raise_exception=True)
        pushed = services.items_push(project=project, limit=data.validated_data.get("limit"))
        return Response({"pushed": pushed})
