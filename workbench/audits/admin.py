from django.contrib import admin
from django.http import HttpRequest

from workbench.audits.models import (
    AuditSettings,
    DriftCheck,
    FairnessAudit,
    ImportIdentityCounts,
    ItemIdentity,
    LabelAudit,
)


@admin.register(AuditSettings)
class AuditSettingsAdmin(admin.ModelAdmin):
    list_display = ("project", "identity_columns", "identity_threshold", "min_count", "updated_at")


@admin.register(ItemIdentity)
class ItemIdentityAdmin(admin.ModelAdmin):
    list_display = ("item_id", "project", "groups", "source", "rule")
    list_filter = ("source",)
    raw_id_fields = ("item",)

    # Written only by the assign service, which keeps the per-import counts with them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ItemIdentity | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ItemIdentity | None = None) -> bool:
        return False


@admin.register(ImportIdentityCounts)
class ImportIdentityCountsAdmin(admin.ModelAdmin):
    list_display = ("item_import", "project", "assigned", "with_any_group", "computed_at")
    readonly_fields = ("item_import", "project", "assigned", "with_any_group", "rules", "counts")


@admin.register(FairnessAudit)
class FairnessAuditAdmin(admin.ModelAdmin):
    list_display = ("round", "project", "n_items", "computed_at")
    readonly_fields = ("report", "model_card")


@admin.register(LabelAudit)
class LabelAuditAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "n_items", "n_flagged", "created_at")


@admin.register(DriftCheck)
class DriftCheckAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "project",
        "trigger",
        "side_a",
        "side_b",
        "status",
        "verdict",
        "features",
        "created_at",
    )
    list_filter = ("status", "verdict", "trigger")
