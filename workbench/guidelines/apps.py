from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    name = "workbench.guidelines"
    label = "guidelines"
