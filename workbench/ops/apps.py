from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: metrics, health and readiness, structured logs."""

    name = "workbench.ops"
    label = "ops"

    def ready(self) -> None:
        # Celery outcomes are counted in the database: the worker that runs a task is not the
        # process that answers /metrics.
        from workbench.ops import signals

        signals.connect()
