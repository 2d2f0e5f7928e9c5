from django.apps import AppConfig
from django.core import checks


class ProjectsConfig(AppConfig):
    name = "workbench.projects"
    label = "projects"

    def ready(self) -> None:
        from workbench import checks as workbench_checks

        checks.register(workbench_checks.label_configs, workbench_checks.TAG)
