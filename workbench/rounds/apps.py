from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "workbench.rounds"
    label = "rounds"
