"""Guidelines over the API: admins publish; admins and ML engineers who may see the project read
the versions and their statistics (an annotator gets 403, someone else's project 404)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.guidelines import campaigns, selection, selectors, services
from workbench.guidelines.models import GuidelineVersion
from workbench.schema import error_responses


class VersionOutput(serializers.ModelSerializer):
    class Meta:
        model = GuidelineVersion
        fields = ["version", "text", "note", "author_name", "published_at", "tasks_updated"]


class SelectionInput(serializers.Serializer):
    """A relabel selection; every field given must hold (see docs/guidelines.md)."""

    relabel_label = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="older answers' consensus label"
    )
    relabel_pattern = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=500, help_text="a regex over the text"
    )
    relabel_identity_groups = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=100,
        help_text="identity groups (safety audits); an item in any of them",
    )
    relabel_score_min = serializers.FloatField(
        required=False, default=None, allow_null=True, help_text="the current model's score, at least"
    )
    relabel_score_max = serializers.FloatField(
        required=False, default=None, allow_null=True, help_text="... and at most"
    )
    relabel_release = serializers.IntegerField(
        required=False, default=None, allow_null=True, min_value=1, help_text="the items of this release"
    )
    relabel_item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=None,
        allow_null=True,
        max_length=selection.MAX_ITEM_IDS,
        help_text="these items (they may have no label yet)",
    )


def _selection(data: dict[str, Any]) -> selection.Selection:
    ids = data["relabel_item_ids"]
    return selection.Selection(
        label=data["relabel_label"],
        pattern=data["relabel_pattern"],
        identity_groups=tuple(dict.fromkeys(data["relabel_identity_groups"])),
        score_min=data["relabel_score_min"],
        score_max=data["relabel_score_max"],
        release=data["relabel_release"],
        item_ids=None if ids is None else tuple(ids),
    )


class PublishInput(SelectionInput):
    text = serializers.CharField(trim_whitespace=False, max_length=services.MAX_TEXT_CHARS)
    note = serializers.CharField(max_length=services.NOTE_CHARS)


class CampaignInput(SelectionInput):
    seed = serializers.IntegerField(
        required=False, default=None, allow_null=True, min_value=0, max_value=2**32 - 1
    )


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    guideline_version = serializers.IntegerField()
    relabel_label = serializers.CharField()
    relabel_pattern = serializers.CharField()
    selection = serializers.DictField(
        help_text="identity_groups, score_min, score_max, release, item_ids (those given)"
    )
    ordering = serializers.CharField(help_text="model_disagreement or item_order")
    ordering_note = serializers.CharField()
    queue_model_version = serializers.CharField(
        help_text="the Label Studio model version the follow-ups head the queue under ('': task id order)"
    )
    created_at = serializers.DateTimeField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="queued, changed, unchanged, labeled, done, total"
    )
    tasks = serializers.ListField(
        child=serializers.DictField(),
        help_text="in serving order: item_id, ls_task_id, rank, model_score, change_score, old_label, "
        "new_label, status",
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
            relabel=_selection(data.validated_data),
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
            selection=_selection(data.validated_data),
            created_by=cast(User, request.user),  # IsAuthenticated
            seed=data.validated_data["seed"],
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
