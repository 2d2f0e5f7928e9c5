from django.contrib import admin

from workbench.quality.models import AnnotatorQuality, LabelChange, LabelIssue, QualitySettings


@admin.register(QualitySettings)
class QualitySettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "gold_rate", "gold_threshold", "agreement_threshold", "consensus_method"]


@admin.register(LabelIssue)
class LabelIssueAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item", "status", "score", "given_label", "outcome_label"]
    list_filter = ["status"]


@admin.register(AnnotatorQuality)
class AnnotatorQualityAdmin(admin.ModelAdmin):
    list_display = ["project", "annotator", "n_annotations", "agreement", "gold_accuracy", "flagged"]


@admin.register(LabelChange)
class LabelChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "project", "item", "kind", "changed_by", "old_label", "new_label"]
