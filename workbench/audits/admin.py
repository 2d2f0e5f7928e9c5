from django.contrib import admin

from workbench.audits.models import AuditSettings, DriftCheck, FairnessAudit, ItemIdentity, LabelAudit


@admin.register(AuditSettings)
class AuditSettingsAdmin(admin.ModelAdmin):
    list_display = ("project", "identity_columns", "identity_threshold", "min_count", "updated_at")


@admin.register(ItemIdentity)
class ItemIdentityAdmin(admin.ModelAdmin):
    list_display = ("item_id", "project", "groups", "source", "rule")
    list_filter = ("source",)
    raw_id_fields = ("item",)


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
