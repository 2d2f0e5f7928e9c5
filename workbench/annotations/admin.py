from django.contrib import admin

from workbench.annotations.models import Annotation, WebhookEvent


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item_id", "annotator", "label", "lead_time", "source", "synced_at"]
    list_filter = ["project", "source", "was_cancelled"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "ls_project_id", "received_at", "processed_at", "error"]
    list_filter = ["action"]
