from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.errors import Conflict
from workbench.projects.kinds import Kind


class Project(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in Kind])
    description = models.TextField(blank=True)
    label_config_name = models.CharField(max_length=100)
    label_config_sha256 = models.CharField(max_length=64)
    annotators_per_item = models.PositiveSmallIntegerField(default=1)
    ls_project_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    ls_webhook_id = models.PositiveIntegerField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ProjectMembership", related_name="projects"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # How many items the pool holds, kept by the import service (items only arrive by import) so
    # that pages and the API never count a million-item pool per request.
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(annotators_per_item__gte=1), name="project_annotators_per_item_gte_1"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def ls_id(self) -> int:
        """The Label Studio project id. ``project_create`` always sets it; a project made by hand
        (admin, shell) may lack it, and nothing can be sent to Label Studio for it then."""
        if self.ls_project_id is None:
            raise Conflict(f"Project '{self.name}' is not linked to a Label Studio project.")
        return self.ls_project_id


class ProjectMembership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]


class ItemImport(models.Model):
    """One accepted import: which file (or API call) brought which items in."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    source_name = models.CharField(max_length=255)
    source_sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    created_count = models.PositiveIntegerField()
    duplicate_count = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Item(models.Model):
    """One thing to label, in the workbench's pool. Label Studio holds a task for it only once
    it has been pushed (``ls_task_id``)."""

    # No index of its own: every composite index below starts with project_id and serves its
    # lookups, and each index is one more to maintain per imported row.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items", db_index=False)
    source = models.ForeignKey(ItemImport, on_delete=models.PROTECT, related_name="items")
    external_id = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64)
    data = models.JSONField()
    metadata = models.JSONField(default=dict, blank=True)
    gold = models.JSONField(null=True, blank=True)
    ls_task_id = models.PositiveIntegerField(null=True, blank=True)
    # Preference pairs: the order the task shows the responses in ("ab": response_a first, "ba"),
    # drawn and recorded before the first push; ingest maps answers back with it
    # (workbench/projects/sides.py). Empty for other kinds and for items never pushed.
    sides = models.CharField(max_length=2, blank=True, default="")
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="item_unique_content"),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="item_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["project", "ls_task_id"],
                condition=Q(ls_task_id__isnull=False),
                name="item_unique_ls_task",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "pushed_at"]),
            # A project's items in id order (the items list, pushes): without it a page of a
            # project's items walks the primary key past every other project's items.
            models.Index(fields=["project", "id"], name="item_project_id_order"),
        ]
