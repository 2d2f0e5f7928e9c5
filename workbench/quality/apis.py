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

from workbench.fields import bounded
from workbench.pagination import PaginatedListApi, paginated_response
from workbench.quality import selectors, services
from workbench.quality.models import AnnotatorQuality, ItemConsensus, LabelChange, LabelIssue, QualityRun
from workbench.quality.services.settings import CONSENSUS_METHODS, QUALITY_BOUNDS
from workbench.schema import error_responses


class RunOutput(serializers.ModelSerializer):
    class Meta:
        model = QualityRun
        fields = ["id", "status", "trigger", "created_at", "started_at", "finished_at", "error"]


class QualitySettingsSerializer(serializers.Serializer):
    gold_rate = bounded(QUALITY_BOUNDS["gold_rate"], required=False)
    gold_threshold = bounded(QUALITY_BOUNDS["gold_threshold"], required=False)
    gold_min_answers = bounded(QUALITY_BOUNDS["gold_min_answers"], required=False)
    agreement_threshold = bounded(QUALITY_BOUNDS["agreement_threshold"], required=False)
    agreement_min_items = bounded(QUALITY_BOUNDS["agreement_min_items"], required=False)
    consensus_method = serializers.ChoiceField(list(CONSENSUS_METHODS), required=False)


class QualitySummaryOutput(serializers.Serializer):
    overview = serializers.DictField(help_text="counts of items, annotations and gold items")
    run = RunOutput(allow_null=True, help_text="the newest run, null before the first")
    summary = serializers.DictField(
        allow_null=True, help_text="agreement tables and trend, null before the first run"
    )


class AnnotatorOutput(serializers.ModelSerializer):
    email = serializers.CharField(source="annotator.email", allow_null=True, default=None)

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
    review_requested_by = serializers.CharField(
        source="review_requested_by.email", allow_null=True, default=None
    )

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
    changed_by = serializers.CharField(source="changed_by.email", allow_null=True, default=None)

    class Meta:
        model = LabelChange
        fields = ["id", "item_id", "issue_id", "kind", "changed_by", "old_label", "new_label", "note", "at"]


class QualitySummaryApi(APIView):
    @extend_schema(responses=QualitySummaryOutput)
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
    @extend_schema(responses=QualitySettingsSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return Response(QualitySettingsSerializer(services.quality_settings_get(project=project)).data)

    @extend_schema(request=QualitySettingsSerializer, responses=QualitySettingsSerializer)
    def patch(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        given = QualitySettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        updated = services.quality_settings_update(project=project, **given.validated_data)
        return Response(QualitySettingsSerializer(updated).data)


class AnnotatorQualityApi(APIView):
    @extend_schema(responses=AnnotatorOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return Response(AnnotatorOutput(selectors.annotators_of(project), many=True).data)


class ConsensusApi(PaginatedListApi):
    @extend_schema(responses=ConsensusOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.consensus_of(project), ConsensusOutput)


class IssueQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=LabelIssue.Status.choices, required=False)


class LabelIssueListApi(PaginatedListApi):
    @extend_schema(parameters=[IssueQuery], responses=IssueOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        query = IssueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        issues = selectors.issues_of(project, status=query.validated_data.get("status"))
        return paginated_response(request, self, issues, IssueOutput)


class LabelIssueReviewApi(APIView):
    @extend_schema(request=None, responses={200: IssueOutput, **error_responses(409, 502)})
    def post(self, request: Request, project_id: int, issue_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        issue = selectors.issue_get(project=project, issue_id=issue_id)
        user = cast(User, request.user)  # IsAuthenticated
        return Response(IssueOutput(services.label_issue_send_to_review(issue=issue, user=user)).data)


class LabelChangeListApi(PaginatedListApi):
    @extend_schema(responses=ChangeOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.quality_project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.changes_of(project), ChangeOutput)
