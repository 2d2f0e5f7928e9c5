from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "workbench.incidents"
    label = "incidents"
