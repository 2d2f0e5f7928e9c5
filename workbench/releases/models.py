from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.projects.models import Project


class ReleaseSettings(models.Model):
    """Per-project release settings: the secret salt behind splits and annotator pseudonyms.

    Kept here rather than on ``Project`` so the releases app owns it. The salt never changes
    once made: changing it would move items between splits and re-key every pseudonym.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="release_settings")
    salt = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)


class Release(models.Model):
    """An immutable, versioned snapshot of a project's labeled data.

    ``published`` rows cannot be updated or deleted: a database trigger refuses it (migration
    0002, PostgreSQL and SQLite), and the services never try.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        BUILDING = "building"
        PUBLISHED = "published"
        FAILED = "failed"

    # A release is history: its project can't be deleted from under it.
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="releases")
    version = models.PositiveIntegerField()
    tag = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The state it came from.
    label_config_sha256 = models.CharField(max_length=64)
    guideline_version = models.CharField(max_length=64, null=True, blank=True)
    last_round_id = models.PositiveIntegerField(null=True, blank=True)
    model_version = models.CharField(max_length=128, null=True, blank=True)
    # What went in, and how.
    filter_policy = models.JSONField()
    split_ratios = models.JSONField()
    formats = models.JSONField()
    # Filled in by the build.
    folder = models.CharField(max_length=255, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    record_count = models.PositiveIntegerField(null=True, blank=True)
    excluded = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="release_version_gte_1"),
            models.CheckConstraint(
                condition=~Q(status="published") | (Q(manifest__isnull=False) & ~Q(manifest_sha256="")),
                name="release_published_has_manifest",
            ),
        ]
        ordering = ["project_id", "-version"]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version} ({self.status})"
