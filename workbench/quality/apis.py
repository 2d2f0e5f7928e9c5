"""The quality numbers over the API: admins who may see the project (others' projects 404,
members who are not admins 403)."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.pagination import paginated_response
from workbench.quality import selectors, services
from workbench.quality.models import AnnotatorQuality, ItemConsensus, LabelChange, LabelIssue, QualityRun


class RunOutput(serializers.ModelSerializer):
    class Meta:
        model = QualityRun
        fields = ["id", "status", "trigger", "created_at", "started_at", "finished_at", "error"]


class SettingsSerializer(serializers.Serializer):
    gold_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    gold_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
    gold_min_answers = serializers.IntegerField(min_value=1, required=False)
    agreement_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
    agreement_min_items = serializers.IntegerField(min_value=1, required=False)
    consensus_method = serializers.ChoiceField(["crowdlab", "majority_vote"], required=False)


class AnnotatorOutput(serializers.ModelSerializer):
    email = serializers.CharField(source="annotator.email", default=None)

    class Meta:
        model = AnnotatorQuality
        fields = [
            "ls_user_id",
            "annotator_id",
            "email",
            "n_annotations",
            "median_lead_time",
            "agreement",
            "kappa",
            "crowdlab_quality",
            "gold_answers",
            "gold_correct",
            "gold_accuracy",
            "flagged",
            "flags",
        ]


class ConsensusOutput(serializers.ModelSerializer):
    class Meta:
        model = ItemConsensus
        fields = [
            "item_id",
            "label",
            "quality",
            "method",
            "majority_label",
            "majority_quality",
            "crowdlab_label",
            "crowdlab_quality",
            "n_annotations",
            "updated_at",
        ]


class IssueOutput(serializers.ModelSerializer):
    review_requested_by = serializers.CharField(source="review_requested_by.email", default=None)

    class Meta:
        model = LabelIssue
        fields = [
            "id",
            "item_id",
            "status",
            "score",
            "given_label",
            "suggested_label",
            "found_at",
            "review_ls_task_id",
            "review_requested_by",
            "review_requested_at",
            "review_needed",
            "resolved_at",
            "outcome_label",
        ]


class ChangeOutput(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.email", default=None)

    class Meta:
        model = LabelChange
        fields = ["id", "item_id", "issue_id", "kind", "changed_by", "old_label", "new_label", "note", "at"]


class QualitySummaryApi(APIView):
    @extend_schema(responses=serializers.DictField())
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        run = selectors.latest_run(project)
        return Response(
            {
                "overview": selectors.overview(project),
                "run": RunOutput(run).data if run else None,
                "summary": run.summary if run else None,
            }
        )


class QualityRecomputeApi(APIView):
    @extend_schema(request=None, responses={200: RunOutput, 202: RunOutput})
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        run = services.quality_recompute_request(project=project, trigger="api")
        run.refresh_from_db()  # eager mode: it already ran
        code = status.HTTP_200_OK if run.status in ("done", "failed") else status.HTTP_202_ACCEPTED
        return Response(RunOutput(run).data, status=code)


class QualitySettingsApi(APIView):
    @extend_schema(responses=SettingsSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return Response(SettingsSerializer(services.quality_settings_get(project=project)).data)

    @extend_schema(request=SettingsSerializer, responses=SettingsSerializer)
    def patch(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        given = SettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        updated = services.quality_settings_update(project=project, **given.validated_data)
        return Response(SettingsSerializer(updated).data)


class AnnotatorQualityApi(APIView):
    @extend_schema(responses=AnnotatorOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return Response(AnnotatorOutput(selectors.annotators_of(project), many=True).data)


class ConsensusApi(APIView):
    @extend_schema(responses=ConsensusOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.consensus_of(project), ConsensusOutput)


class LabelIssueListApi(APIView):
    @extend_schema(responses=IssueOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        issues = selectors.issues_of(project, status=request.query_params.get("status"))
        return paginated_response(request, self, issues, IssueOutput)


class LabelIssueReviewApi(APIView):
    @extend_schema(request=None, responses=IssueOutput)
    def post(self, request: Request, project_id: int, issue_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        issue = selectors.issue_get(project=project, issue_id=issue_id)
        user = cast(User, request.user)  # IsAuthenticated
        return Response(IssueOutput(services.label_issue_send_to_review(issue=issue, user=user)).data)


class LabelChangeListApi(APIView):
    @extend_schema(responses=ChangeOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.changes_of(project), ChangeOutput)
