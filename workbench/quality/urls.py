from django.urls import path

from workbench.quality import views
from workbench.quality.login import ThrottledLoginView

app_name = "quality"

urlpatterns = [
    path("", views.index, name="index"),
    # Workbench admins are not Django staff, so the Django admin's login would refuse them.
    path(
        "login/",
        ThrottledLoginView.as_view(template_name="quality/login.html"),
        name="login",
    ),
    path("projects/<int:project_id>/", views.project_overview, name="overview"),
    path("projects/<int:project_id>/annotators/", views.annotators, name="annotators"),
    path("projects/<int:project_id>/issues/", views.issues, name="issues"),
    path("projects/<int:project_id>/issues/<int:issue_id>/review/", views.issue_review, name="issue_review"),
    path("projects/<int:project_id>/recompute/", views.recompute, name="recompute"),
    path("projects/<int:project_id>/plots/<slug:name>.svg", views.plot, name="plot"),
]
