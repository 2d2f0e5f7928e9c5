from django.urls import path

from workbench.rounds import views

app_name = "rounds"

urlpatterns = [
    path("", views.index, name="index"),
    path("projects/<int:project_id>/", views.project_rounds, name="project"),
    path("projects/<int:project_id>/learning-curve.svg", views.learning_curve_plot, name="learning_curve"),
    path("projects/<int:project_id>/<int:round_id>/", views.round_detail, name="round"),
    path("projects/<int:project_id>/<int:round_id>/pr-curve.svg", views.pr_curve_plot, name="pr_curve"),
]
