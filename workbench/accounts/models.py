from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    ANNOTATOR = "annotator", "Annotator"


class Account(models.Model):
    """A workbench user's role, and the Label Studio account that labels for them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    role = models.CharField(max_length=16, choices=Role.choices)
    ls_user_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.email or self.user.username} ({self.role})"
