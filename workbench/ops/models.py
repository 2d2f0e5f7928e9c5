from django.db import models

from workbench.projects.models import Project


class TaskCounter(models.Model):
    """How often each Celery task ended how (success, failure, retry), counted by the worker
    that ran it. One row per (task, outcome): the table stays as small as the task list."""

    task = models.CharField(max_length=200)
    outcome = models.CharField(max_length=16)
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "outcome"], name="task_counter_unique")]


class ReconcileTotals(models.Model):
    """Reconciliation runs of one project and what they fixed, summed over every run."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="reconcile_totals"
    )
    runs = models.PositiveBigIntegerField(default=0)
    failed_runs = models.PositiveBigIntegerField(default=0)
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    deleted = models.PositiveBigIntegerField(default=0)
    last_finished_at = models.DateTimeField(null=True)
