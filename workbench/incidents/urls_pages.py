from django.urls import path

from workbench.incidents import views

app_name = "incidents"

urlpatterns = [
    path("projects/<int:project_id>/", views.project_batches, name="project"),
    path("projects/<int:project_id>/feedback/<int:batch_id>/", views.batch_report, name="report"),
]
