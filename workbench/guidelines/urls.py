from django.urls import URLPattern, path

from workbench.guidelines import apis

urlpatterns: list[URLPattern] = [
    path("projects/<int:project_id>/guidelines/", apis.GuidelineListPublishApi.as_view()),
    path("projects/<int:project_id>/guidelines/stats/", apis.GuidelineStatsApi.as_view()),
    path("projects/<int:project_id>/guidelines/<int:version>/", apis.GuidelineDetailApi.as_view()),
    path("projects/<int:project_id>/guidelines/campaigns/", apis.CampaignListOpenApi.as_view()),
    path(
        "projects/<int:project_id>/guidelines/campaigns/<int:campaign_id>/", apis.CampaignDetailApi.as_view()
    ),
]
