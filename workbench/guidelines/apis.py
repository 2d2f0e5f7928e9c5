"""Guidelines over the API: admins publish; admins and ML engineers who may see the project read
the versions and their statistics (an annotator gets 403, someone else's project 404)."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.guidelines import campaigns, selectors, services
from workbench.guidelines.models import GuidelineVersion
from workbench.schema import error_responses


class VersionOutput(serializers.ModelSerializer):
    class Meta:
        model = GuidelineVersion
        fields = ["version", "text", "note", "author_name", "published_at", "tasks_updated"]


class PublishInput(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, max_length=services.MAX_TEXT_CHARS)
    note = serializers.CharField(max_length=services.NOTE_CHARS)
    relabel_label = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="open a relabel campaign: older answers' label",
    )
    relabel_pattern = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=500,
        help_text="... and/or a regex over the text",
    )


class CampaignInput(serializers.Serializer):
    relabel_label = serializers.CharField(required=False, default="", allow_blank=True)
    relabel_pattern = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    guideline_version = serializers.IntegerField()
    relabel_label = serializers.CharField()
    relabel_pattern = serializers.CharField()
    created_at = serializers.DateTimeField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="queued, changed, unchanged, done, total"
    )
    tasks = serializers.ListField(
        child=serializers.DictField(), help_text="item_id, ls_task_id, old_label, new_label, status"
    )


class StatsOutput(serializers.Serializer):
    current_version = serializers.IntegerField(allow_null=True)
    versions = serializers.ListField(
        child=serializers.DictField(),
        help_text="per guideline version (null: answers made before any guideline): items, answers, "
        "annotators, multi_rated_items, label_counts, krippendorff_alpha",
    )


class GuidelineListPublishApi(APIView):
    @extend_schema(responses=VersionOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=False)
        return Response(VersionOutput(selectors.versions_of(project), many=True).data)

    @extend_schema(request=PublishInput, responses={201: VersionOutput, **error_responses(502)})
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=True)
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.guideline_publish(
            project=project,
            text=data.validated_data["text"],
            note=data.validated_data["note"],
            author=cast(User, request.user),  # IsAuthenticated
            relabel_label=data.validated_data["relabel_label"],
            relabel_pattern=data.validated_data["relabel_pattern"],
        )
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)


class GuidelineDetailApi(APIView):
    @extend_schema(responses=VersionOutput)
    def get(self, request: Request, project_id: int, version: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=False)
        return Response(VersionOutput(selectors.version_get(project=project, version=version)).data)


class GuidelineStatsApi(APIView):
    @extend_schema(responses=StatsOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=False)
        body = {
            "current_version": selectors.current_version(project),
            "versions": selectors.version_stats(project),
        }
        return Response(StatsOutput(body).data)


class CampaignListOpenApi(APIView):
    @extend_schema(responses=CampaignOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=False)
        found = [campaigns.campaign_progress(c) for c in selectors.campaigns_of(project)]
        return Response(CampaignOutput(found, many=True).data)

    @extend_schema(request=CampaignInput, responses={201: CampaignOutput, **error_responses(502)})
    def post(self, request: Request, project_id: int) -> Response:
        """Open a campaign under the version in force."""
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=True)
        data = CampaignInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = campaigns.campaign_open(
            version=selectors.version_current(project),
            label=data.validated_data["relabel_label"],
            pattern=data.validated_data["relabel_pattern"],
            created_by=cast(User, request.user),  # IsAuthenticated
        )
        return Response(
            CampaignOutput(campaigns.campaign_progress(campaign)).data, status=status.HTTP_201_CREATED
        )


class CampaignDetailApi(APIView):
    @extend_schema(responses=CampaignOutput)
    def get(self, request: Request, project_id: int, campaign_id: int) -> Response:
        project = selectors.guideline_project_get(user=request.user, project_id=project_id, publish=False)
        campaign = selectors.campaign_get(project=project, campaign_id=campaign_id)
        return Response(CampaignOutput(campaigns.campaign_progress(campaign)).data)
