"""Thin views: parse, authorize (admins and ML engineers of the project; others 403, strangers
404), call one service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.audits import selectors
from workbench.audits.models import AuditSettings, DriftCheck, FairnessAudit, LabelAudit
from workbench.audits.services import drift, fairness, identity, labels
from workbench.errors import NotFound
from workbench.pagination import paginated_response
from workbench.projects.apis import managed_project
from workbench.projects.models import Project
from workbench.rounds.models import Round


def _round(project: Project, round_id: int) -> Round:
    round_ = Round.objects.filter(project=project, id=round_id).select_related("project").first()
    if round_ is None:
        raise NotFound(f"Round {round_id} does not exist in project {project.id}.")
    return round_


class AuditSettingsOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditSettings
        fields = list(identity.SETTINGS_FIELDS)


class AuditSettingsApi(APIView):
    class AuditSettingsInput(serializers.Serializer):
        identity_columns = serializers.ListField(
            child=serializers.CharField(max_length=200), max_length=200, required=False
        )
        identity_threshold = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
        lexicon = serializers.DictField(
            child=serializers.CharField(max_length=100), allow_null=True, required=False
        )
        min_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    @extend_schema(responses=AuditSettingsOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        return Response(AuditSettingsOutput(selectors.audit_settings_get(project=project)).data)

    @extend_schema(request=AuditSettingsInput, responses=AuditSettingsOutput)
    def patch(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = self.AuditSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        config = identity.audit_settings_update(project=project, **data.validated_data)
        return Response(AuditSettingsOutput(config).data)


class IdentityImportCounts(serializers.Serializer):
    import_id = serializers.IntegerField()
    source_name = serializers.CharField()
    created = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())


class IdentitySummaryOutput(serializers.Serializer):
    items = serializers.IntegerField()
    assigned = serializers.IntegerField()
    with_any_group = serializers.IntegerField()
    rules = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField(child=serializers.IntegerField())
    imports = IdentityImportCounts(many=True)


class IdentityApi(APIView):
    @extend_schema(responses=IdentitySummaryOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        return Response(IdentitySummaryOutput(selectors.identity_summary(project=project)).data)

    @extend_schema(request=None, responses=IdentitySummaryOutput)
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        identity.identity_assign(project=project)
        return Response(IdentitySummaryOutput(selectors.identity_summary(project=project)).data)


class FairnessAuditOutput(serializers.ModelSerializer):
    class Meta:
        model = FairnessAudit
        fields = ["round_id", "n_items", "report", "computed_at"]


class FairnessAuditApi(APIView):
    @extend_schema(responses=FairnessAuditOutput)
    def get(self, request: Request, project_id: int, round_id: int) -> Response:
        round_ = _round(managed_project(request, project_id), round_id)
        audit = selectors.fairness_get(round_=round_)
        if audit is None:
            raise NotFound(
                f"Round {round_.number} has no fairness audit yet; POST to this address to run it."
            )
        return Response(FairnessAuditOutput(audit).data)

    @extend_schema(request=None, responses={201: FairnessAuditOutput})
    def post(self, request: Request, project_id: int, round_id: int) -> Response:
        round_ = _round(managed_project(request, project_id), round_id)
        audit = fairness.fairness_audit_run(round_=round_)
        return Response(FairnessAuditOutput(audit).data, status=status.HTTP_201_CREATED)


class ModelCardApi(APIView):
    @extend_schema(responses={(200, "text/markdown"): OpenApiResponse(description="the model card")})
    def get(self, request: Request, project_id: int, round_id: int) -> HttpResponse:
        round_ = _round(managed_project(request, project_id), round_id)
        audit = selectors.fairness_get(round_=round_)
        if audit is None:
            raise NotFound(f"Round {round_.number} has no model card yet; run its fairness audit first.")
        response = HttpResponse(audit.model_card, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="model-card-round-{round_.number}.md"'
        return response


class LabelAuditOutput(serializers.ModelSerializer):
    class Meta:
        model = LabelAudit
        fields = ["id", "n_items", "n_flagged", "report", "created_at"]


class LabelAuditApi(APIView):
    @extend_schema(responses=LabelAuditOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        audit = selectors.label_audit_latest(project=project)
        if audit is None:
            raise NotFound("No label-side audit yet; POST to this address to run one.")
        return Response(LabelAuditOutput(audit).data)

    @extend_schema(request=None, responses={201: LabelAuditOutput})
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        return Response(LabelAuditOutput(labels.label_audit_run(project=project)).data, status=201)


class DriftCheckOutput(serializers.ModelSerializer):
    # Plain strings in the schema: choice fields named like Round's would rename its enums.
    status = serializers.CharField(help_text="done, or skipped (see reason)")
    trigger = serializers.CharField(help_text="import, api or command")

    class Meta:
        model = DriftCheck
        fields = [
            "id",
            "trigger",
            "item_import_id",
            "side_a",
            "side_b",
            "n_a",
            "n_b",
            "status",
            "verdict",
            "reason",
            "features",
            "report",
            "created_at",
        ]


class DriftCheckApi(APIView):
    class DriftCheckInput(serializers.Serializer):
        side_a = serializers.RegexField(drift.SOURCE.pattern, max_length=64)
        side_b = serializers.RegexField(drift.SOURCE.pattern, max_length=64)
        seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, required=False)

    @extend_schema(responses=DriftCheckOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        return paginated_response(request, self, selectors.drift_checks(project=project), DriftCheckOutput)

    @extend_schema(request=DriftCheckInput, responses={201: DriftCheckOutput})
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = self.DriftCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        check = drift.drift_check_run(project=project, trigger=DriftCheck.Trigger.API, **values)
        return Response(DriftCheckOutput(check).data, status=status.HTTP_201_CREATED)
