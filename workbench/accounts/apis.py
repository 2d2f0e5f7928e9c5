from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, extend_schema_field
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
        child=serializers.IntegerField(min_value=1, max_value=DB_ID_MAX), default=list, max_length=1000
    )


class AnnotatorCreateOutput(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.id")
    login_email = serializers.CharField()
    password = serializers.CharField()
    label_studio_url = serializers.CharField()


class MeApi(APIView):
    @extend_schema(responses={200: MeOutput})
    def get(self, request: Request) -> Response:
        user = _signed_in(request)
        role = role_of(user)
        return Response({"id": user.pk, "email": getattr(user, "email", ""), "role": role and role.value})


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


class UserCreateApi(APIView):
    """Admins create users of every role; annotators also get their Label Studio login."""

    class UserCreateInput(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        role = serializers.ChoiceField(choices=[r.value for r in Role])
        first_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
        last_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
        project_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=DB_ID_MAX), default=list, max_length=1000
        )

    class LabelStudioLogin(serializers.Serializer):
        url = serializers.CharField(source="label_studio_url")
        email = serializers.CharField(source="login_email")
        password = serializers.CharField()

    class UserCreateOutput(serializers.Serializer):
        user_id = serializers.IntegerField(source="user.id")
        email = serializers.CharField(source="user.email")
        role = serializers.CharField()
        token = serializers.CharField()
        label_studio = serializers.SerializerMethodField()

        @extend_schema_field({"type": "object", "nullable": True})
        def get_label_studio(self, created: services.AccountCreated) -> dict[str, Any] | None:
            if created.annotator is None:
                return None
            return dict(UserCreateApi.LabelStudioLogin(created.annotator).data)

    @extend_schema(request=UserCreateInput, responses={201: UserCreateOutput, **error_responses(409, 502)})
    def post(self, request: Request) -> Response:
        if not is_admin(request.user):
            raise Forbidden("Only admins create users.")
        data = self.UserCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.pop("project_ids")
        projects = list(Project.objects.filter(id__in=ids))
        if len(projects) != len(set(ids)):
            missing = sorted(set(ids) - {p.id for p in projects})
            raise ValidationFailed(f"No project has id {missing[0]}.", extra={"project_ids": missing})
        role = Role(data.validated_data.pop("role"))
        created = services.account_create(role=role, projects=projects, **data.validated_data)
        return Response(self.UserCreateOutput(created).data, status=status.HTTP_201_CREATED)


class MyTokenOutput(serializers.Serializer):
    token = serializers.CharField()


class MyTokenApi(APIView):
    """The signed-in user's own API token."""

    @extend_schema(responses={200: MyTokenOutput})
    def get(self, request: Request) -> Response:
        return Response({"token": services.token_get(user=_signed_in(request))})


class MyTokenRotateApi(APIView):
    """A new token for the signed-in user; the old one stops working at once."""

    @extend_schema(request=None, responses={200: MyTokenOutput})
    def post(self, request: Request) -> Response:
        return Response({"token": services.token_rotate(user=_signed_in(request))})


def _signed_in(request: Request) -> User:
    user = request.user
    if not user.is_authenticated:  # IsAuthenticated already answered 401
        raise Forbidden("Sign in first.")
    return user
