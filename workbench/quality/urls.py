from django.urls import path

from workbench.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.index, name="index"),
    path("projects/<int:project_id>/", views.project_overview, name="overview"),
    path("projects/<int:project_id>/annotators/", views.annotators, name="annotators"),
    path("projects/<int:project_id>/issues/", views.issues, name="issues"),
    path("projects/<int:project_id>/issues/<int:issue_id>/review/", views.issue_review, name="issue_review"),
    path("projects/<int:project_id>/recompute/", views.recompute, name="recompute"),
    path("projects/<int:project_id>/plots/<slug:name>.svg", views.plot, name="plot"),
]
