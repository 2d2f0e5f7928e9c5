from django.apps import AppConfig
from django.core import checks


class ReleasesConfig(AppConfig):
    name = "workbench.releases"
    label = "releases"

    def ready(self) -> None:
        from workbench import checks as workbench_checks

        checks.register(workbench_checks.consensus_methods, workbench_checks.TAG)
