from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "workbench.annotations"
    label = "annotations"
