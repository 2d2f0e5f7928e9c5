"""API routes under ``/api/projects/<project_id>/audits/`` (included by ``workbench.urls``)."""

from django.urls import path

from workbench.audits import apis

urlpatterns = [
    path("settings/", apis.AuditSettingsApi.as_view()),
    path("identity/", apis.IdentityApi.as_view()),
    path("labels/", apis.LabelAuditApi.as_view()),
    path("drift/", apis.DriftCheckApi.as_view()),
    path("rounds/<int:round_id>/fairness/", apis.FairnessAuditApi.as_view()),
    path("rounds/<int:round_id>/model-card/", apis.ModelCardApi.as_view()),
]
