from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.accounts import services
from workbench.accounts.models import Role
from workbench.accounts.selectors import is_admin, role_of
from workbench.errors import Forbidden, ValidationFailed
from workbench.projects.models import Project
from workbench.schema import DB_ID_MAX, error_responses


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True)


class AnnotatorCreateInput(serializers.Serializer):
    # The lengths of Django's user fields: longer would fail in the database, not here.
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    project_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=DB_ID_MAX), default=list
    )


class AnnotatorCreateOutput(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.id")
    login_email = serializers.CharField()
    password = serializers.CharField()
    label_studio_url = serializers.CharField()


class MeApi(APIView):
    @extend_schema(responses={200: MeOutput})
    def get(self, request: Request) -> Response:
        role = role_of(request.user)
        return Response({"id": request.user.pk, "email": request.user.email, "role": role and role.value})


class AnnotatorCreateApi(APIView):
    @extend_schema(
        request=AnnotatorCreateInput, responses={201: AnnotatorCreateOutput, **error_responses(409, 502)}
    )
    def post(self, request: Request) -> Response:
        if not is_admin(request.user):
            raise Forbidden("Only admins add annotators.")
        data = AnnotatorCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.pop("project_ids")
        projects = list(Project.objects.filter(id__in=ids))
        if len(projects) != len(set(ids)):
            missing = sorted(set(ids) - {p.id for p in projects})
            raise ValidationFailed(f"No project has id {missing[0]}.", extra={"project_ids": missing})
        created = services.annotator_create(projects=projects, **data.validated_data)
        return Response(AnnotatorCreateOutput(created).data, status=status.HTTP_201_CREATED)
