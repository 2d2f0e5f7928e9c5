"""Thin views: parse, authorize, call one service or selector, serialize."""

from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import active_learning as al
from active_learning.strategies import cold_start_names
from workbench.fields import bounded
from workbench.pagination import PaginatedListApi, paginated_response
from workbench.projects.apis import managed_project
from workbench.projects.selectors import project_get
from workbench.rounds import savings, selectors, services
from workbench.rounds.models import Round, RoundConfig
from workbench.schema import error_responses


class RoundOutput(serializers.ModelSerializer):
    class Meta:
        model = Round
        fields = [
            "id",
            "number",
            "status",
            "trigger",
            "strategy",
            "strategy_used",
            "strategy_reason",
            "signal",
            "readiness",
            "parameters",
            "seed",
            "model_version",
            "annotation_count",
            "training_size",
            "validation_size",
            "pool_size",
            "pushed_count",
            "predicted_count",
            "timings",
            "metrics",
            "threshold",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class SelectionOutput(serializers.Serializer):
    rank = serializers.IntegerField()
    item_id = serializers.IntegerField()
    external_id = serializers.CharField(source="item.external_id")
    ls_task_id = serializers.IntegerField(source="item.ls_task_id", allow_null=True)
    priority = serializers.FloatField(allow_null=True)
    audit = serializers.BooleanField()
    predicted = serializers.FloatField(allow_null=True)


class SavingsOutput(serializers.Serializer):
    useful = serializers.CharField()
    rounds = serializers.IntegerField()
    ready = serializers.BooleanField()
    message = serializers.CharField()
    strategy_labeled = serializers.IntegerField()
    strategy_useful = serializers.IntegerField()
    audit_labeled = serializers.IntegerField()
    audit_useful = serializers.IntegerField()
    ratio = serializers.FloatField(allow_null=True)
    ratio_low = serializers.FloatField(allow_null=True)
    ratio_high = serializers.FloatField(allow_null=True)
    saved = serializers.FloatField(allow_null=True)
    saved_low = serializers.FloatField(allow_null=True)
    saved_high = serializers.FloatField(allow_null=True)
    share_saved = serializers.FloatField(allow_null=True)
    share_saved_low = serializers.FloatField(allow_null=True)
    share_saved_high = serializers.FloatField(allow_null=True)


class RoundDetailOutput(RoundOutput):
    selection = serializers.SerializerMethodField()
    savings = serializers.SerializerMethodField()

    class Meta(RoundOutput.Meta):
        fields = [*RoundOutput.Meta.fields, "selection", "savings"]

    @extend_schema_field(SavingsOutput(allow_null=True))
    def get_savings(self, obj: Round) -> dict[str, object] | None:
        if obj.status != Round.Status.DONE:
            return None
        return SavingsOutput(savings.round_savings(obj).as_dict()).data

    @extend_schema_field(SelectionOutput(many=True))
    def get_selection(self, obj: Round) -> list[dict[str, object]]:
        return SelectionOutput(selectors.selection_of(obj), many=True).data  # type: ignore[return-value]


class RoundListStartApi(PaginatedListApi):
    class RoundStartInput(serializers.Serializer):
        strategy = serializers.CharField(required=False)
        batch_size = bounded(services.ROUND_BOUNDS["batch_size"], required=False)
        buffer_size = bounded(services.ROUND_BOUNDS["buffer_size"], required=False)
        seed = bounded(services.ROUND_BOUNDS["seed"], required=False)
        committee_size = bounded(services.ROUND_BOUNDS["committee_size"], required=False)
        cost_fp = bounded(services.ROUND_BOUNDS["cost_fp"], required=False)
        cost_fn = bounded(services.ROUND_BOUNDS["cost_fn"], required=False)
        max_annotators_per_item = bounded(services.ROUND_BOUNDS["max_annotators_per_item"], required=False)
        gold_share = bounded(services.ROUND_BOUNDS["gold_share"], required=False)

    @extend_schema(responses=RoundOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.rounds_of(project), RoundOutput)

    @extend_schema(
        request=RoundStartInput, responses={201: RoundOutput, 202: RoundOutput, **error_responses(409)}
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = self.RoundStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        parameters = {k: values.pop(k) for k in services.ROUND_PARAMETERS if k in values}
        round_ = services.round_start(
            project=project,
            trigger=Round.Trigger.API,
            parameters=parameters,
            created_by=cast(User, request.user),  # IsAuthenticated
            **values,
        )
        round_.refresh_from_db()  # in eager mode it has already run
        finished = round_.status in (Round.Status.DONE, Round.Status.FAILED)
        return Response(
            RoundOutput(round_).data, status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED
        )


class RoundDetailApi(APIView):
    @extend_schema(responses=RoundDetailOutput)
    def get(self, request: Request, project_id: int, round_id: int) -> Response:
        round_ = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
        return Response(RoundDetailOutput(round_).data)


class RoundConfigOutput(serializers.ModelSerializer):
    # What a round falls back to: fallback_strategy, or the kind's model-free strategy when blank.
    model_free_strategy = serializers.SerializerMethodField()

    class Meta:
        model = RoundConfig
        fields = [*services.CONFIG_FIELDS, "model_free_strategy"]

    def get_model_free_strategy(self, obj: RoundConfig) -> str:
        return services.fallback_of(project=obj.project, config=obj)


class RoundConfigApi(APIView):
    class RoundConfigInput(serializers.Serializer):
        strategy = serializers.CharField(required=False)
        batch_size = bounded(services.ROUND_BOUNDS["batch_size"], required=False)
        buffer_size = bounded(services.ROUND_BOUNDS["buffer_size"], required=False)
        auto_round_every = bounded(services.ROUND_BOUNDS["auto_round_every"], required=False)
        validation_percent = bounded(services.ROUND_BOUNDS["validation_percent"], required=False)
        cost_fp = bounded(services.ROUND_BOUNDS["cost_fp"], required=False)
        cost_fn = bounded(services.ROUND_BOUNDS["cost_fn"], required=False)
        max_annotators_per_item = bounded(services.ROUND_BOUNDS["max_annotators_per_item"], required=False)
        fallback_strategy = serializers.CharField(required=False, allow_blank=True, max_length=64)
        audit_percent = bounded(services.ROUND_BOUNDS["audit_percent"], required=False)

    @extend_schema(responses=RoundConfigOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get(user=request.user, project_id=project_id)
        return Response(RoundConfigOutput(services.round_config_get(project=project)).data)

    @extend_schema(request=RoundConfigInput, responses=RoundConfigOutput)
    def patch(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        data = self.RoundConfigInput(data=request.data)
        data.is_valid(raise_exception=True)
        config = services.round_config_update(project=project, **data.validated_data)
        return Response(RoundConfigOutput(config).data)


class StrategyOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    cold_start = serializers.BooleanField()
    tasks = serializers.ListField(child=serializers.CharField())


class StrategyListApi(APIView):
    @extend_schema(responses=StrategyOutput(many=True))
    def get(self, request: Request) -> Response:
        cold = set(cold_start_names())
        return Response(
            [
                {
                    "name": name,
                    "description": al.get_strategy(name).description,
                    "cold_start": name in cold,
                    "tasks": sorted(al.get_strategy(name).tasks),
                }
                for name in al.strategy_names()
            ]
        )


class EmbeddingProgressOutput(serializers.Serializer):
    model_id = serializers.CharField()
    embedded = serializers.IntegerField()
    total = serializers.IntegerField()
    chunks = serializers.IntegerField()
    chunks_done = serializers.IntegerField()


class EmbeddingProgressApi(APIView):
    """How many of the project's items the background jobs have embedded (two counters)."""

    @extend_schema(responses=EmbeddingProgressOutput)
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get(user=request.user, project_id=project_id)
        return Response(EmbeddingProgressOutput(selectors.embedding_progress(project)).data)
