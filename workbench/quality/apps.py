from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "workbench.quality"
    label = "quality"
