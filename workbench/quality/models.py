"""Label quality state of a project: settings, the latest computed numbers, consensus per item,
quality per annotator, label issues with their review, gold items, and an audit trail of label
changes. Everything here is recomputed by ``services.quality_compute`` except the settings, the
gold selection, the issues' review state and the audit trail, which are history."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.projects.models import Item, Project


class QualitySettings(models.Model):
    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="quality_settings"
    )
    # Share of the pool used as gold checks (chosen among items with a known answer).
    gold_rate = models.FloatField(default=0.1)
    gold_threshold = models.FloatField(default=0.8)
    gold_min_answers = models.PositiveIntegerField(default=10)
    # An annotator whose agreement with the others' majority falls below this is flagged too
    # (gold needs many answers before it can flag anybody; agreement is there from day one).
    # Agreement is the share of an annotator's answers equal to the consensus label.
    agreement_threshold = models.FloatField(default=0.8)
    agreement_min_items = models.PositiveIntegerField(default=10)
    consensus_method = models.CharField(
        max_length=16,
        choices=[("crowdlab", "crowdlab"), ("majority_vote", "majority_vote")],
        default="crowdlab",
    )
    seed = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="quality_gold_rate_0_1"
            ),
            models.CheckConstraint(
                condition=Q(gold_threshold__gte=0) & Q(gold_threshold__lte=1),
                name="quality_gold_threshold_0_1",
            ),
        ]


class QualityRun(models.Model):
    """One computation of a project's label quality; the newest finished one is what pages and
    the API show. ``summary`` holds the agreement tables and the trend as JSON."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quality_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trigger = models.CharField(max_length=32, default="api")
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["project", "status", "finished_at"])]


class ItemConsensus(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="consensus")
    # The label of the project's consensus method, and both methods' labels and scores.
    label = models.JSONField(null=True)
    quality = models.FloatField(null=True)
    method = models.CharField(max_length=16)
    majority_label = models.JSONField(null=True)
    majority_quality = models.FloatField(null=True)
    crowdlab_label = models.JSONField(null=True)
    crowdlab_quality = models.FloatField(null=True)
    n_annotations = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)


class AnnotatorQuality(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    ls_user_id = models.PositiveIntegerField()
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    n_annotations = models.PositiveIntegerField()
    median_lead_time = models.FloatField(null=True)
    agreement = models.FloatField(null=True)  # share of answers equal to the consensus label
    kappa = models.FloatField(null=True)  # Cohen's kappa against the others' majority (own vote left out)
    crowdlab_quality = models.FloatField(null=True)
    gold_answers = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)
    gold_accuracy = models.FloatField(null=True)
    flagged = models.BooleanField(default=False)
    flags = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "ls_user_id"], name="annotator_quality_unique")
        ]


class GoldItem(models.Model):
    """An item whose known answer (``Item.gold``) checks annotators; chosen once, kept."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="gold_check")
    added_at = models.DateTimeField(auto_now_add=True)


class LabelIssue(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        IN_REVIEW = "in_review"
        RELABELED = "relabeled"  # the review changed the consensus label
        CONFIRMED = "confirmed"  # the review kept it
        GONE = "gone"  # no longer flagged by a later computation before anybody reviewed it

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_issues")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="label_issues")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    score = models.FloatField()  # cleanlab label quality, lower = more likely wrong
    given_label = models.JSONField(null=True)
    suggested_label = models.JSONField(null=True)
    found_at = models.DateTimeField(auto_now_add=True)
    last_seen_run = models.ForeignKey(QualityRun, null=True, on_delete=models.SET_NULL, related_name="+")
    review_ls_task_id = models.PositiveIntegerField(null=True, blank=True)
    review_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_requested_at = models.DateTimeField(null=True)
    review_needed = models.PositiveSmallIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True)
    outcome_label = models.JSONField(null=True)

    class Meta:
        constraints = [
            # At most one unresolved issue per item; resolved ones stay as history.
            models.UniqueConstraint(
                fields=["item"], condition=Q(status__in=["open", "in_review"]), name="label_issue_one_active"
            )
        ]
        indexes = [models.Index(fields=["project", "status"])]


class LabelChange(models.Model):
    """Audit trail: who changed which label of which item, when, and why."""

    class Kind(models.TextChoices):
        REVIEW_REQUESTED = "review_requested"
        REVIEW_ANSWER = "review_answer"
        CONSENSUS_CHANGED = "consensus_changed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="label_changes")
    issue = models.ForeignKey(LabelIssue, null=True, on_delete=models.SET_NULL, related_name="changes")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    old_label = models.JSONField(null=True)
    new_label = models.JSONField(null=True)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "at"])]
