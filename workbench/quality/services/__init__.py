"""Label quality services, split by subdomain; import them from here."""

from workbench.quality.services.compute import quality_compute, quality_recompute_request, quality_run_execute
from workbench.quality.services.gold import gold_items_select
from workbench.quality.services.review import label_issue_send_to_review
from workbench.quality.services.settings import quality_settings_get, quality_settings_update

__all__ = [
    "gold_items_select",
    "label_issue_send_to_review",
    "quality_compute",
    "quality_recompute_request",
    "quality_run_execute",
    "quality_settings_get",
    "quality_settings_update",
]
