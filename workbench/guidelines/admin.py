from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workbench.guidelines.models import GuidelineVersion


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(admin.ModelAdmin):
    """Read-only: a published version never changes (publish a new one with the API or
    ``publish_guideline``)."""

    list_display = ["project", "version", "note", "author_name", "published_at", "tasks_updated"]
    list_filter = ["project"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
