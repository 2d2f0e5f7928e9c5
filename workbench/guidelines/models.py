"""Guidelines: one project's labeling policy in numbered versions. A version is written once,
when it is published, and never changed: every annotation stamped with its number must keep
meaning the text it was made under."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from workbench.projects.models import Project


class GuidelineVersion(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guideline_versions")
    version = models.PositiveIntegerField()  # 1, 2, ... per project
    text = models.TextField()  # Markdown
    note = models.CharField(max_length=500)  # what changed
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=254)
    published_at = models.DateTimeField()
    # Open Label Studio tasks whose data were re-stamped with this version when it was published.
    tasks_updated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="guideline_version_unique")
        ]
        ordering = ["project", "version"]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version}"


class RelabelCampaign(models.Model):
    """Items labeled under older guideline versions (or an explicit list of items), sent to
    annotators again under ``version`` as follow-up tasks (the item's own task stays as it was),
    most likely to change first. Selected by the older answers' consensus label, a regex over
    the item's text, identity groups, a model score range, a release, or item ids (all that are
    given must hold); progress is read from the answers."""

    class Ordering(models.TextChoices):
        # The current model's disagreement with the old label, highest first.
        MODEL = "model_disagreement"
        ITEM = "item_order"  # no model could be trained (ordering_note says why)

    version = models.ForeignKey(GuidelineVersion, on_delete=models.CASCADE, related_name="campaigns")
    label = models.CharField(max_length=100, blank=True)  # "": any label
    pattern = models.CharField(max_length=500, blank=True)  # "": any text
    # The other selections as given: identity_groups, score_min, score_max, release, item_ids.
    selection = models.JSONField(default=dict, blank=True)
    ordering = models.CharField(max_length=32, choices=Ordering.choices, default=Ordering.ITEM)
    ordering_note = models.CharField(max_length=500, blank=True)
    # The Label Studio model version the follow-ups were predicted under to head the queue
    # ("": the project serves by task id, so the import order is the serving order).
    queue_model_version = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()


class RelabelTask(models.Model):
    campaign = models.ForeignKey(RelabelCampaign, on_delete=models.CASCADE, related_name="tasks")
    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="+")
    # The consensus of the item's counted answers made under older versions, when selected
    # (null: an item given by id that had no label yet).
    old_label = models.JSONField(null=True)
    ls_task_id = models.PositiveIntegerField()
    rank = models.PositiveIntegerField(default=0)  # serving order, 0 first
    # The current model's score (binary: P(toxic); preference: P(A preferred)) and its
    # likelihood that the old label changes (1 - P(old label)); null without a model.
    model_score = models.FloatField(null=True)
    change_score = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "item"], name="relabel_task_unique_item")]
