from django.urls import path

from workbench.audits import views

app_name = "audits"

urlpatterns = [
    path("projects/<int:project_id>/", views.project_audits, name="project"),
    path("projects/<int:project_id>/rounds/<int:round_id>/", views.round_fairness, name="round"),
    path("projects/<int:project_id>/rounds/<int:round_id>/run/", views.round_fairness_run, name="round_run"),
    path(
        "projects/<int:project_id>/rounds/<int:round_id>/fairness.svg",
        views.round_fairness_plot,
        name="round_plot",
    ),
    path(
        "projects/<int:project_id>/rounds/<int:round_id>/model-card.md",
        views.round_model_card,
        name="model_card",
    ),
]
