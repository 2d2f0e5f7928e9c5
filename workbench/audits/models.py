"""What the safety audits store: per-project audit settings, identity groups per item, and the
result of each audit (fairness per round with its model card, label-side audits, drift checks).

Results are stored as JSON made from the ``audits`` library's reports (see ``services/_json.py``):
the pages and the API read them back without recomputing.
"""

from django.db import models
from django.db.models import Q

from workbench.projects.models import Item, ItemImport, Project
from workbench.rounds.models import Round


class AuditSettings(models.Model):
    """Where a project's identity groups come from. ``identity_columns``: item metadata columns
    (non-contract import columns) that are identity columns, 0/1 or fractions, an item being in
    the group when its value is at least ``identity_threshold``; when empty, the lexicon is
    matched in the item's texts: ``lexicon`` (``{term: group}``) or, when null, the shipped one."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="audit_settings"
    )
    identity_columns = models.JSONField(default=list, blank=True)
    identity_threshold = models.FloatField(default=0.5)
    lexicon = models.JSONField(null=True, blank=True)
    # A metric whose group has fewer items of a class it compares is "too few items".
    min_count = models.PositiveIntegerField(default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(identity_threshold__gt=0) & Q(identity_threshold__lte=1),
                name="audit_settings_threshold_in_0_1",
            ),
            models.CheckConstraint(condition=Q(min_count__gte=1), name="audit_settings_min_count_gte_1"),
        ]


class ItemIdentity(models.Model):
    """The identity groups one item mentions (empty list: none), and where they came from."""

    class Source(models.TextChoices):
        COLUMNS = "columns"
        LEXICON = "lexicon"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="identity")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    groups = models.JSONField(default=list)
    terms = models.JSONField(default=list)
    source = models.CharField(max_length=16, choices=Source.choices)
    # "default 1.0.0", "project custom" or "columns a,b,c": the rule that assigned the groups.
    rule = models.CharField(max_length=255)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "rule"])]


class ImportIdentityCounts(models.Model):
    """One import's identity figures, recounted from its items' ``ItemIdentity`` rows whenever
    they are written (``services.identity.identity_counts_refresh``, which every writer calls),
    so the pages and the API read them without a pass over the pool. No row: nothing assigned."""

    item_import = models.OneToOneField(
        ItemImport, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    assigned = models.PositiveIntegerField(default=0)  # items with a stored record
    with_any_group = models.PositiveIntegerField(default=0)
    rules = models.JSONField(default=list)  # the rules that assigned them, sorted
    counts = models.JSONField(default=dict)  # {group: items mentioning it}
    computed_at = models.DateTimeField(auto_now=True)


class FairnessAudit(models.Model):
    """A round's model on its validation slice (gold items), per identity group; one per round."""

    round = models.OneToOneField(Round, on_delete=models.CASCADE, primary_key=True, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    report = models.JSONField()
    model_card = models.TextField()
    n_items = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)


class LabelAudit(models.Model):
    """A label-side audit of the project's counted answers (newest last)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    report = models.JSONField()
    n_items = models.PositiveIntegerField()
    n_flagged = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-id"]


class DriftCheck(models.Model):
    """A drift check between two sources of items (``import:ID``, ``before:ID``, ``release:V``).

    ``status`` is ``skipped`` (with ``reason``) when a side has too few items to test."""

    class Status(models.TextChoices):
        DONE = "done"
        SKIPPED = "skipped"

    class Trigger(models.TextChoices):
        IMPORT = "import"
        API = "api"
        COMMAND = "command"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    # The import that triggered the check (after-import checks only): one check per import.
    item_import = models.OneToOneField(
        ItemImport, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    side_a = models.CharField(max_length=64)
    side_b = models.CharField(max_length=64)
    n_a = models.PositiveIntegerField(default=0)
    n_b = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    verdict = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    # Which features the classifier test ran on: the rounds' embedding cache or hashed TF-IDF.
    features = models.CharField(max_length=255, blank=True)
    report = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-id"]
