from django.conf import settings
from django.db import models

from workbench.projects.models import Item, Project


class Annotation(models.Model):
    """One annotator's answer for one item, mirrored from Label Studio.

    Keyed by (project, Label Studio annotation id): webhooks and reconciliation both upsert on
    it, so either may see the same annotation any number of times.
    """

    class Source(models.TextChoices):
        WEBHOOK = "webhook"
        RECONCILE = "reconcile"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotations")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
    )
    ls_annotation_id = models.PositiveIntegerField()
    ls_user_id = models.PositiveIntegerField()
    # "toxic" / "A" for single-choice kinds; a list of categories for multi-label; null for a
    # skipped (cancelled) annotation.
    label = models.JSONField(null=True)
    # From a graded preference config: how much better the chosen response is, 0 (tie) to 3
    # ("much better"); the direction stays in ``label``. Null from every ungraded config.
    strength = models.PositiveSmallIntegerField(null=True, blank=True)
    result = models.JSONField(default=list)
    lead_time = models.FloatField(null=True)
    was_cancelled = models.BooleanField(default=False)
    ls_created_at = models.DateTimeField(null=True)
    ls_updated_at = models.DateTimeField(null=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # The guideline version in force, read from the task's data (stamped by the workbench when it
    # pushed or re-stamped the task); null for tasks pushed before any guideline was published.
    guideline_version = models.PositiveIntegerField(null=True, blank=True)
    # The Label Studio task it was made on (the item's own task or a follow-up task): incremental
    # reconciliation compares a changed task's annotations with the rows of that task.
    ls_task_id = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "ls_annotation_id"], name="annotation_unique_ls_id")
        ]
        indexes = [
            models.Index(fields=["project", "synced_at"]),
            models.Index(fields=["project", "ls_task_id"], name="annotation_project_task"),
        ]


class ReconcileState(models.Model):
    """Where a project's reconciliation stands with Label Studio (see ``reconcile.py``).

    ``high_water``: Label Studio's clock when the last pass began; the next pass reads the tasks
    changed after it (minus an overlap). ``full_pass_at``: when the
    last full pass finished. ``unmatched``: annotations Label Studio held in the project at that
    full pass that no item here matches (tasks not made by the workbench), so that the count
    check does not take them for missing rows."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="reconcile_state"
    )
    high_water = models.DateTimeField(null=True)
    full_pass_at = models.DateTimeField(null=True)
    unmatched = models.PositiveIntegerField(default=0)


class WebhookEvent(models.Model):
    """A webhook call from Label Studio exactly as received (minus secrets), processed later by
    a Celery task. Kept for audit and replay. The payload is a notification, not data: processing
    re-reads the annotations it names from Label Studio.

    Unprocessed: ``processed_at`` is null (``error`` then holds the last transient failure).
    Processed: ``processed_at`` set, ``error`` empty. Failed: ``processed_at`` set and ``error``
    says why (a permanent error, or ``attempts`` ran out).
    """

    action = models.CharField(max_length=64)
    ls_project_id = models.PositiveIntegerField(null=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)
    # Counted before each try and committed on its own, so a worker killed mid-way still counts.
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "received_at"])]
