import hmac
import logging

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.annotations import selectors, services, tasks
from workbench.celery import app as celery_app
from workbench.errors import Forbidden, UpstreamUnavailable, ValidationFailed
from workbench.labelstudio.payloads import WEBHOOK_SECRET_HEADER as SECRET_HEADER
from workbench.pagination import PaginatedListApi, paginated_response
from workbench.projects.apis import managed_project
from workbench.projects.selectors import project_get
from workbench.schema import error_responses

log = logging.getLogger(__name__)


class AnnotationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    annotator_id = serializers.IntegerField(allow_null=True)
    annotator_email = serializers.CharField(source="annotator.email", allow_null=True, default=None)
    ls_annotation_id = serializers.IntegerField()
    ls_user_id = serializers.IntegerField()
    label = serializers.JSONField()  # type: ignore[assignment]  # the metaclass moves fields off the class
    lead_time = serializers.FloatField(allow_null=True)
    was_cancelled = serializers.BooleanField()
    source = serializers.CharField()  # type: ignore[assignment]  # the metaclass moves fields off the class
    ls_updated_at = serializers.DateTimeField(allow_null=True)


class AnnotationListApi(PaginatedListApi):
    @extend_schema(responses=AnnotationOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get(user=request.user, project_id=project_id)
        return paginated_response(request, self, selectors.annotations_of(project), AnnotationOutput)


class ReconcileOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["done", "queued"])
    report = serializers.DictField(child=serializers.IntegerField(), required=False, help_text="when done")
    task_id = serializers.CharField(required=False, help_text="when queued")


class WebhookReceivedOutput(serializers.Serializer):
    received = serializers.IntegerField(help_text="the stored event's id")


class ReconcileApi(APIView):
    @extend_schema(
        request=None, responses={200: ReconcileOutput, 202: ReconcileOutput, **error_responses(502)}
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = managed_project(request, project_id)
        if celery_app.conf.task_always_eager:  # no broker: it runs here and now
            return Response({"status": "done", "report": tasks.reconcile_project.apply((project.id,)).get()})
        try:
            result = tasks.reconcile_project.apply_async((project.id,), retry=False)
        except Exception as exc:  # the broker is down; there is no result backend to ask either
            raise UpstreamUnavailable(f"Could not queue the reconciliation: {exc}") from exc
        return Response({"status": "queued", "task_id": result.id}, status=status.HTTP_202_ACCEPTED)


class LabelStudioWebhookApi(APIView):
    """Where Label Studio delivers annotation events. Authenticated by the shared secret that
    the workbench registered with the webhook, not by a user."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: WebhookReceivedOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), settings.WEBHOOK_SECRET.encode()):
            raise Forbidden(f"Missing or wrong {SECRET_HEADER} header.")
        if not isinstance(request.data, dict):
            raise ValidationFailed("Expected a JSON object.")
        event = services.webhook_event_receive(payload=request.data)
        transaction.on_commit(lambda: _enqueue(event.id))
        return Response({"received": event.id})


def _enqueue(event_id: int) -> None:
    """Hand the stored event to a worker. A broker that is down (or an eager run that failed)
    must not fail the delivery: the event is stored, and the sweep queues it later."""
    try:
        tasks.process_webhook_event.apply_async((event_id,), retry=False)
    except Exception:
        log.warning(
            "webhook event %s stored but not queued; the sweep will queue it", event_id, exc_info=True
        )
