from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.projects.models import Item, Project


class RoundConfig(models.Model):
    """A project's active-learning settings: what a round does unless told otherwise, and
    whether new annotations start rounds on their own."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="round_config"
    )
    strategy = models.CharField(max_length=64, default="margin")
    batch_size = models.PositiveIntegerField(default=50)
    # Items pushed to Label Studio beyond the batch, so annotators don't run dry before the next round.
    buffer_size = models.PositiveIntegerField(default=50)
    # Start a round every N new (non-cancelled) annotations; null: never automatically.
    auto_round_every = models.PositiveIntegerField(null=True, blank=True)
    # Share of the items with a gold label that is held out for validation (never queued).
    validation_percent = models.PositiveSmallIntegerField(default=10)
    cost_fp = models.FloatField(default=1.0)
    cost_fn = models.FloatField(default=1.0)
    # The most annotators an item may get: ``split_votes`` sends items whose votes are split to
    # more annotators than ``annotators_per_item`` (follow-up tasks), up to this many.
    max_annotators_per_item = models.PositiveSmallIntegerField(default=5)
    # The model-free strategy a model-based one gives way to when the round's model does not beat
    # its baseline (rounds/readiness); empty: the kind's (KindSpec.model_free_strategy).
    fallback_strategy = models.CharField(max_length=64, blank=True, default="")
    # Share of every batch drawn uniformly at random from the pool (the audit slice), in percent.
    audit_percent = models.FloatField(default=5.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(batch_size__gte=1), name="round_config_batch_size_gte_1"),
            models.CheckConstraint(
                condition=Q(validation_percent__lte=50), name="round_config_validation_lte_50"
            ),
            models.CheckConstraint(
                condition=Q(auto_round_every__gte=1), name="round_config_auto_every_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(audit_percent__gte=0, audit_percent__lte=50),
                name="round_config_audit_percent_0_50",
            ),
        ]


class Round(models.Model):
    """One active-learning round: train on the labels so far, score the pool, put a batch at the
    head of Label Studio's queue. Everything needed to replay the selection is stored."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        API = "api"
        COMMAND = "command"
        AUTO = "auto"

    class Signal(models.TextChoices):
        SIGNAL = "signal"  # the model beats its baseline
        NO_SIGNAL = "no_signal"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    # The strategy asked for; the one that selected (they differ when the model showed no signal
    # and the round fell back to the project's model-free strategy) and why.
    strategy = models.CharField(max_length=64)
    strategy_used = models.CharField(max_length=64, blank=True)
    strategy_reason = models.TextField(blank=True)
    # The model against the baseline it must beat (active_learning.readiness): blank before the
    # round ran; the figures (metric, value, baseline, the gain's interval, evidence) in readiness.
    signal = models.CharField(max_length=16, choices=Signal.choices, blank=True)
    readiness = models.JSONField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    seed = models.PositiveBigIntegerField()
    # Label Studio serves the queue by the predictions of this version.
    model_version = models.CharField(max_length=100)
    # Non-cancelled annotations when the round was created: the baseline for automatic rounds.
    annotation_count = models.PositiveIntegerField(default=0)
    training_size = models.PositiveIntegerField(null=True)
    validation_size = models.PositiveIntegerField(null=True)
    pool_size = models.PositiveIntegerField(null=True)
    pushed_count = models.PositiveIntegerField(null=True)
    predicted_count = models.PositiveIntegerField(null=True)
    timings = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    threshold = models.JSONField(null=True)
    # The validation slice's labels and the model's scores on it (see rounds/evaluation.py), so
    # pages can draw its precision-recall curve and an interval; null without a validated model.
    validation_scores = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="round_unique_number"),
            # One round at a time per project: two would race for Label Studio's model version.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["pending", "running"]),
                name="round_one_active_per_project",
            ),
        ]
        ordering = ["project", "-number"]

    def __str__(self) -> str:
        return f"{self.project} round {self.number} ({self.status})"


class RoundSelection(models.Model):
    """The batch a round put at the head of the queue, in serving order (rank 0 first)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="selections")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    # The strategy's priority (higher = sooner); null when not finite.
    priority = models.FloatField(null=True)
    # Drawn uniformly at random from the pool (the audit slice), not by the strategy.
    audit = models.BooleanField(default=False)
    # The round's model on this item: P(toxic), the largest per-label P (multi-label) or P(A)
    # (preference); null without a model.
    predicted = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "rank"], name="round_selection_unique_rank"),
            models.UniqueConstraint(fields=["round", "item"], name="round_selection_unique_item"),
        ]
        ordering = ["round", "rank"]


class QueueFollowUp(models.Model):
    """A follow-up Label Studio task for an item whose own task is full (it has its
    ``annotators_per_item`` answers) but whose votes are split: answers to it count for the
    item (same ``item_id``, same shown sides). A round reuses an item's follow-up until it has
    had ``annotators_per_item`` answers since it was made, then makes another."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="follow_ups")
    ls_task_id = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "ls_task_id"], name="queue_follow_up_unique_task")
        ]
        indexes = [models.Index(fields=["item", "created_at"])]


class EmbeddingProgress(models.Model):
    """A project's embedding counters, kept by the chunk jobs (workbench/rounds/embedding_jobs.py)
    so pages and the API read two numbers instead of counting the pool."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="embedding_progress"
    )
    model_id = models.CharField(max_length=300, blank=True)  # the featurizer the counts are for
    total = models.PositiveBigIntegerField(default=0)  # items in chunks
    embedded = models.PositiveBigIntegerField(default=0)  # items of chunks done
    chunks = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class EmbeddingChunk(models.Model):
    """Items of one project whose texts one Celery task embeds: those with ``first_item_id <=
    id <= last_item_id`` (and of import ``source``, when set, so chunks of two imports whose ids
    interleave never share an item). Done once, counted once: the task claims ``done_at``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("projects.ItemImport", null=True, on_delete=models.CASCADE, related_name="+")
    first_item_id = models.PositiveBigIntegerField()
    last_item_id = models.PositiveBigIntegerField()
    size = models.PositiveIntegerField()
    # Texts the task had to encode (the others were cached already: a redone chunk, shared texts).
    computed = models.PositiveIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["project", "done_at"])]
