from django.contrib import admin

from workbench.rounds.models import Round, RoundConfig


@admin.register(RoundConfig)
class RoundConfigAdmin(admin.ModelAdmin):
    list_display = [
        "project",
        "strategy",
        "batch_size",
        "buffer_size",
        "auto_round_every",
        "validation_percent",
        "max_annotators_per_item",
        "fallback_strategy",
        "audit_percent",
    ]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "number",
        "status",
        "trigger",
        "strategy",
        "strategy_used",
        "signal",
        "training_size",
        "created_at",
    ]
    list_filter = ["project", "status", "trigger", "signal"]
    readonly_fields = [f.name for f in Round._meta.fields]
