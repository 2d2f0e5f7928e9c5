from django.urls import path

from workbench.releases import views

app_name = "releases"

urlpatterns = [
    path("projects/<int:project_id>/", views.project_releases, name="project"),
    path("projects/<int:project_id>/diff/", views.release_diff, name="diff"),
    path("projects/<int:project_id>/<int:version>/", views.release_detail, name="release"),
]
