from django.db.models import Count, Q, QuerySet

from workbench.annotations.models import Annotation, WebhookEvent
from workbench.projects.models import Project


def annotations_of(project: Project) -> QuerySet[Annotation]:
    return Annotation.objects.filter(project=project).select_related("annotator", "item").order_by("id")


def webhook_event_counts() -> dict[str, int]:
    """How many stored webhook events are unprocessed (still to do) and failed (gave up, with
    an error): for /metrics, the admin and the sync-status endpoint."""
    counts = WebhookEvent.objects.aggregate(
        unprocessed=Count("id", filter=Q(processed_at__isnull=True)),
        failed=Count("id", filter=Q(processed_at__isnull=False) & ~Q(error="")),
        total=Count("id"),
    )
    return {key: int(value or 0) for key, value in counts.items()}
