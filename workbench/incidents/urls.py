from django.urls import URLPattern, path

from workbench.incidents import apis

urlpatterns: list[URLPattern] = [
    path("projects/<int:project_id>/feedback/", apis.FeedbackListImportApi.as_view()),
    path("projects/<int:project_id>/feedback/<int:batch_id>/report/", apis.FeedbackReportApi.as_view()),
    path("projects/<int:project_id>/feedback/<int:batch_id>/sample/", apis.FeedbackSampleApi.as_view()),
]
