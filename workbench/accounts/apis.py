from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.accounts import services
from workbench.accounts.selectors import is_admin, role_of
from workbench.errors import Forbidden, ValidationFailed
from workbench.projects.models import Project


class MeApi(APIView):
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated
        role = role_of(user)
        return Response({"id": user.pk, "email": user.email, "role": role and role.value})


class AnnotatorCreateApi(APIView):
    class Input(serializers.Serializer):
        email = serializers.EmailField()
        first_name = serializers.CharField(required=False, allow_blank=True, default="")
        last_name = serializers.CharField(required=False, allow_blank=True, default="")
        project_ids = serializers.ListField(child=serializers.IntegerField(), default=list)

    class Output(serializers.Serializer):
        user_id = serializers.IntegerField(source="user.id")
        login_email = serializers.CharField()
        password = serializers.CharField()
        label_studio_url = serializers.CharField()

    @extend_schema(request=Input, responses={201: Output})
    def post(self, request: Request) -> Response:
        if not is_admin(request.user):
            raise Forbidden("Only admins add annotators.")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.pop("project_ids")
        projects = list(Project.objects.filter(id__in=ids))
        if len(projects) != len(set(ids)):
            missing = sorted(set(ids) - {p.id for p in projects})
            raise ValidationFailed(f"No project has id {missing[0]}.", extra={"project_ids": missing})
        created = services.annotator_create(projects=projects, **data.validated_data)
        return Response(self.Output(created).data, status=status.HTTP_201_CREATED)
