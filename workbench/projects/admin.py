from django.contrib import admin

from workbench.projects.models import Item, ItemImport, Project, ProjectMembership


class MembershipInline(admin.TabularInline):
    model = ProjectMembership
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "item_count", "annotators_per_item", "ls_project_id", "created_at"]
    # item_count is kept by the import service (the pool's size), never typed in.
    readonly_fields = [
        "label_config_name",
        "label_config_sha256",
        "ls_project_id",
        "ls_webhook_id",
        "item_count",
    ]
    inlines = [MembershipInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "ls_task_id", "pushed_at"]
    list_filter = ["project"]
    search_fields = ["external_id"]
    readonly_fields = ["content_hash", "ls_task_id", "pushed_at", "source"]


@admin.register(ItemImport)
class ItemImportAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "source_name", "rows", "created_count", "duplicate_count", "created_at"]
