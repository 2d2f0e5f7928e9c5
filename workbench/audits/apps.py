from django.apps import AppConfig


class SafetyAuditsConfig(AppConfig):
    # Labelled "safety_audits" so the app label never reads like the pure `audits` library.
    name = "workbench.audits"
    label = "safety_audits"
