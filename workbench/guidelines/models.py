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
    """Items labeled under older guideline versions, sent to annotators again under ``version``
    as follow-up tasks (the item's own task stays as it was). Selected by the older answers'
    consensus label and/or a regex over the item's text; progress is read from the answers."""

    version = models.ForeignKey(GuidelineVersion, on_delete=models.CASCADE, related_name="campaigns")
    label = models.CharField(max_length=100, blank=True)  # "": any label
    pattern = models.CharField(max_length=500, blank=True)  # "": any text
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()


class RelabelTask(models.Model):
    campaign = models.ForeignKey(RelabelCampaign, on_delete=models.CASCADE, related_name="tasks")
    item = models.ForeignKey("projects.Item", on_delete=models.CASCADE, related_name="+")
    # The consensus of the item's counted answers made under older versions, when selected.
    old_label = models.JSONField()
    ls_task_id = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "item"], name="relabel_task_unique_item")]
