from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from workbench.annotations.models import Annotation, WebhookEvent
from workbench.annotations.selectors import webhook_event_counts


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item_id", "annotator", "label", "lead_time", "source", "synced_at"]
    list_filter = ["project", "source", "was_cancelled"]


class EventStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("unprocessed", "unprocessed"), ("failed", "failed"), ("processed", "processed")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "unprocessed":
            return queryset.filter(processed_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(processed_at__isnull=False).exclude(error="")
        if self.value() == "processed":
            return queryset.filter(processed_at__isnull=False, error="")
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "ls_project_id", "received_at", "processed_at", "attempts", "error"]
    list_filter = [EventStateFilter, "action"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        counts = webhook_event_counts()
        title = f"Webhook events: {counts['unprocessed']} unprocessed, {counts['failed']} failed"
        return super().changelist_view(request, {**(extra_context or {}), "title": title})
