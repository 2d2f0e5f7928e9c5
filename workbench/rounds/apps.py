from django.apps import AppConfig
from django.core import checks


class RoundsConfig(AppConfig):
    name = "workbench.rounds"
    label = "rounds"

    def ready(self) -> None:
        from workbench import checks as workbench_checks

        checks.register(workbench_checks.featurizer, workbench_checks.TAG)
