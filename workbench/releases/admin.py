from django.contrib import admin

from workbench.releases.models import Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "version",
        "tag",
        "status",
        "record_count",
        "created_by_name",
        "created_at",
    ]
    list_filter = ["status", "project"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Releases change only through their build; published ones never.
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
