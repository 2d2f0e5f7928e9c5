from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from workbench.accounts import apis as accounts
from workbench.annotations import apis as annotations
from workbench.errors import NotFound
from workbench.guidelines import urls as guidelines
from workbench.incidents import urls as incidents
from workbench.ops import views as ops
from workbench.projects import apis as projects
from workbench.quality import apis as quality
from workbench.releases import apis as releases
from workbench.rounds import apis as rounds


@extend_schema(exclude=True)
class NoSuchApi(APIView):
    """Any other path under /api/ (e.g. a negative id, which no route's ``<int:>`` matches)
    answers the API's JSON 404, not Django's HTML page."""

    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound(f"No API endpoint at {request.path}.")


api: list[URLPattern | URLResolver] = [
    path("me/", accounts.MeApi.as_view()),
    path("me/token/", accounts.MyTokenApi.as_view()),
    path("me/token/rotate/", accounts.MyTokenRotateApi.as_view()),
    path("users/", accounts.UserCreateApi.as_view()),
    path("annotators/", accounts.AnnotatorCreateApi.as_view()),
    path("projects/", projects.ProjectListCreateApi.as_view()),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view()),
    path("projects/<int:project_id>/members/", projects.ProjectMemberAddApi.as_view()),
    path("projects/<int:project_id>/items/", projects.ItemListApi.as_view()),
    path("projects/<int:project_id>/items/import/", projects.ItemImportApi.as_view()),
    path("projects/<int:project_id>/items/push/", projects.ItemPushApi.as_view()),
    path("projects/<int:project_id>/annotations/", annotations.AnnotationListApi.as_view()),
    path("projects/<int:project_id>/annotations/reconcile/", annotations.ReconcileApi.as_view()),
    path("projects/<int:project_id>/rounds/", rounds.RoundListStartApi.as_view()),
    path("projects/<int:project_id>/rounds/<int:round_id>/", rounds.RoundDetailApi.as_view()),
    path("projects/<int:project_id>/rounds/settings/", rounds.RoundConfigApi.as_view()),
    path("projects/<int:project_id>/embeddings/", rounds.EmbeddingProgressApi.as_view()),
    path("strategies/", rounds.StrategyListApi.as_view()),
    *guidelines.urlpatterns,
    *incidents.urlpatterns,
    path("projects/<int:project_id>/quality/", quality.QualitySummaryApi.as_view()),
    path("projects/<int:project_id>/quality/recompute/", quality.QualityRecomputeApi.as_view()),
    path("projects/<int:project_id>/quality/settings/", quality.QualitySettingsApi.as_view()),
    path("projects/<int:project_id>/quality/annotators/", quality.AnnotatorQualityApi.as_view()),
    path("projects/<int:project_id>/quality/consensus/", quality.ConsensusApi.as_view()),
    path("projects/<int:project_id>/quality/issues/", quality.LabelIssueListApi.as_view()),
    path(
        "projects/<int:project_id>/quality/issues/<int:issue_id>/review/",
        quality.LabelIssueReviewApi.as_view(),
    ),
    path("projects/<int:project_id>/quality/changes/", quality.LabelChangeListApi.as_view()),
    path("projects/<int:project_id>/releases/", releases.ReleaseListCreateApi.as_view()),
    path("projects/<int:project_id>/releases/diff/", releases.ReleaseDiffApi.as_view(), name="release-diff"),
    path("projects/<int:project_id>/releases/<int:version>/", releases.ReleaseDetailApi.as_view()),
    path(
        "projects/<int:project_id>/releases/<int:version>/download/",
        releases.ReleaseDownloadApi.as_view(),
        name="release-download",
    ),
    path("projects/<int:project_id>/audits/", include("workbench.audits.urls_api")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/label-studio/", annotations.LabelStudioWebhookApi.as_view()),
    # The API's description is public; every endpoint it describes needs a token.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny])),
    path("api/", include(api)),
    # Whatever else under api/ ending in a slash (newlines too); without the slash, Django's
    # APPEND_SLASH redirect still applies.
    re_path(r"^api/(?:[\s\S]*/)?$", NoSuchApi.as_view()),
    path("quality/", include("workbench.quality.urls")),
    path("rounds/", include("workbench.rounds.urls")),
    path("releases/", include("workbench.releases.urls")),
    path("account/", include("workbench.accounts.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("audits/", include("workbench.audits.urls")),
    path("incidents/", include("workbench.incidents.urls_pages")),
]
