"""Incident triage: production feedback on a deployed model, imported as a batch. Each row is
one production decision (a text, the deployed model's score, what the user reported) tied to a
project item: a new item brought in by the batch's own import, or an existing one with the same
content. A batch is written once, at import; the triage report reads everything else (answers,
rounds, releases, the relabel campaign) when it is asked for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.guidelines.models import RelabelCampaign
from workbench.projects.models import Item, ItemImport, Project


class Report(models.TextChoices):
    """What the user reported. The two flags are the model's errors as the user saw them."""

    FALSE_POSITIVE = "user_flagged_false_positive"
    FALSE_NEGATIVE = "user_flagged_false_negative"
    OTHER = "other"  # anything else; say what in the row's ``note``


class FeedbackBatch(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feedback_batches")
    # The import that brought the batch's new items (every batch has one, possibly of 0 items);
    # the batch's drift check is that import's check (``DriftCheck.item_import``).
    item_import = models.OneToOneField(ItemImport, on_delete=models.CASCADE, related_name="+")
    source_name = models.CharField(max_length=255)
    source_sha256 = models.CharField(max_length=64)
    # Which deployed model produced the scores: a round's model_version, a release tag, ...
    model_version = models.CharField(max_length=128, blank=True)
    # The release the deployed model was trained on, when the importer says so.
    release_version = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)  # what happened, in the on-call engineer's words
    rows = models.PositiveIntegerField()
    created_count = models.PositiveIntegerField()  # new items
    linked_count = models.PositiveIntegerField()  # rows on items already in the pool
    # The relabel campaign over the batch's stratified sample, once queued.
    campaign = models.OneToOneField(
        RelabelCampaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sample = models.JSONField(null=True, blank=True)  # size, bins, seed, strata of the sample
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-id"]

    def __str__(self) -> str:
        return f"{self.project_id} feedback {self.id} ({self.source_name})"


class FeedbackEntry(models.Model):
    batch = models.ForeignKey(FeedbackBatch, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField()  # the row of the file
    score = models.FloatField()  # the deployed model's P(toxic)
    report = models.CharField(max_length=64, choices=Report.choices)
    note = models.TextField(blank=True)
    new_item = models.BooleanField()  # brought in by this batch (else linked by content)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="feedback_entry_unique_row"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="feedback_score_in_0_1"),
        ]
        ordering = ["batch", "row"]
