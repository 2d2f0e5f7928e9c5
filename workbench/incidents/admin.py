from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workbench.incidents.models import FeedbackBatch


@admin.register(FeedbackBatch)
class FeedbackBatchAdmin(admin.ModelAdmin):
    """Read-only: a batch is what production reported (import another with ``import_feedback``)."""

    list_display = ["id", "project", "source_name", "model_version", "rows", "created_count", "campaign"]
    list_filter = ["project"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
